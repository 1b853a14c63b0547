"""What every figure shares: the pyplot backend, axis labels with units, PNG output."""

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


def to_png(fig):
    """The figure as PNG bytes, then closed."""
    import io

    plt = pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()
