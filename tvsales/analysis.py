"""Descriptive statistics and the business questions, answered from the data."""


def describe(table):
    """Count, mean, spread and quartiles of every column (rows: statistics)."""
    return table.describe()


def business_answers(table, feature, target):
    """Answer the marketing team's questions with numbers.

    Returns a dict of floats: how much is spent (total, mean per row), how much is
    sold, how strongly sales follow spend (Pearson correlation), sales per unit of
    spend overall, and the extra sales one more unit of spend brings (the slope of
    a least-squares line through all rows).
    """
    import numpy as np

    x = table[feature].to_numpy(dtype="float64")
    y = table[target].to_numpy(dtype="float64")
    intercept, slope = least_squares_line(x, y)
    return {
        "n_rows": float(len(x)),
        "tv_total": float(x.sum()),
        "tv_mean": float(x.mean()),
        "sales_total": float(y.sum()),
        "sales_mean": float(y.mean()),
        "correlation": float(np.corrcoef(x, y)[0, 1]),
        "sales_per_tv": float(y.sum() / x.sum()),
        "marginal_sales_per_tv": float(slope),
        "sales_at_zero_tv": float(intercept),
    }


def least_squares_line(x, y):
    """``(intercept, slope)`` of the least-squares line of ``y`` on ``x``, in closed form.

    One pass over centred copies: what ``numpy.polyfit(x, y, 1)`` gives, several times faster
    and without its (rows x 2) matrix.
    """
    import numpy as np

    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    x_mean, y_mean = float(x.mean()), float(y.mean())
    centred = x - x_mean
    slope = float(np.dot(centred, y - y_mean) / np.dot(centred, centred))
    return y_mean - slope * x_mean, slope


def correlation_strength(r):
    """Words for the size of a Pearson correlation."""
    size = abs(r)
    if size >= 0.7:
        word = "strong"
    elif size >= 0.4:
        word = "moderate"
    elif size >= 0.2:
        word = "weak"
    else:
        return "no meaningful"
    return f"a {word} {'positive' if r > 0 else 'negative'}"
