"""Uncertainty of the one-variable least-squares line: the slope's interval and prediction intervals."""


def ols_summary(x, y):
    """What a prediction interval needs from the training data, as plain floats.

    ``n`` rows, the fitted ``intercept`` and ``slope``, the residual standard deviation
    ``sigma`` (n - 2 degrees of freedom), the mean of ``x`` and its sum of squared deviations.
    """
    import numpy as np

    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    n = len(x)
    x_mean = float(x.mean())
    sxx = float(((x - x_mean) ** 2).sum())
    slope = float(((x - x_mean) * (y - y.mean())).sum() / sxx)
    intercept = float(y.mean() - slope * x_mean)
    residuals = y - (intercept + slope * x)
    sigma = float(np.sqrt((residuals ** 2).sum() / (n - 2)))
    return {"n": n, "intercept": intercept, "slope": slope, "sigma": sigma,
            "x_mean": x_mean, "sxx": sxx}


def _t_quantile(level, dof):
    """The two-sided Student t quantile: ``scipy.stats.t.ppf(0.5 + level / 2, dof)``.

    Taken from ``scipy.special``, which imports in a third of the time of ``scipy.stats``.
    """
    from scipy.special import stdtrit

    return float(stdtrit(dof, 0.5 + level / 2))


def slope_interval(summary, level):
    """``(low, high)``: the confidence interval of the slope at ``level`` (e.g. 0.95)."""
    import math

    half = _t_quantile(level, summary["n"] - 2) * summary["sigma"] / math.sqrt(summary["sxx"])
    return summary["slope"] - half, summary["slope"] + half


def prediction_interval(summary, x, level):
    """``(lower, upper)`` arrays: where a new observation at ``x`` falls with probability ``level``."""
    import numpy as np

    x = np.asarray(x, dtype="float64")
    n = summary["n"]
    center = summary["intercept"] + summary["slope"] * x
    spread = summary["sigma"] * np.sqrt(1 + 1 / n + (x - summary["x_mean"]) ** 2 / summary["sxx"])
    half = _t_quantile(level, n - 2) * spread
    return center - half, center + half
