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
