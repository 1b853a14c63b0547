"""What every figure shares: the pyplot backend and axis labels with units."""

LABELS = {
    "TV": "TV advertising spend (thousand $)",
    "Sales": "Sales (thousand units)",
}


def label(column):
    """Axis label with units for a known column, the bare name otherwise."""
    return LABELS.get(column, column)


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


PLOT_POINTS = 10_000  # at most this many points are drawn in a scatter plot; more are sampled


def sample_positions(n_rows, limit=PLOT_POINTS, seed=0):
    """Sorted positions of a seeded random sample of ``limit`` of ``n_rows`` rows; None when all fit.

    Drawing millions of points is slow and shows nothing more than ten thousand do.
    """
    if n_rows <= limit:
        return None
    import numpy as np

    return np.sort(np.random.default_rng(seed).choice(n_rows, size=limit, replace=False))


def sample_note(n_rows, limit=PLOT_POINTS):
    """What a sampled plot says about its points: "" when every row is drawn."""
    return "" if n_rows <= limit else f"random sample of {limit:,} of {n_rows:,} rows"


def take(values, positions):
    """``values`` (array or Series) at ``positions``, or all of them when ``positions`` is None."""
    import numpy as np

    values = np.asarray(values)
    return values if positions is None else values[positions]
