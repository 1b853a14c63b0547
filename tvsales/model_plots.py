"""Figures of the model: its fit, its errors, its what-if predictions. Each returns a Figure."""

from tvsales.plotting import label, pyplot, sample_note, sample_positions, take


def fitted_line(train, test, feature, target, intercept, slope):
    """Train and test points with the fitted line through them (samples of large splits)."""
    import numpy as np

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    for rows, name, marker, alpha in ((train, "train", "o", 0.6), (test, "test", "s", 0.8)):
        positions = sample_positions(len(rows))
        shown = f"{len(rows)} rows" if positions is None else sample_note(len(rows))
        ax.scatter(take(rows[feature], positions), take(rows[target], positions),
                   s=18 if positions is None else 4, alpha=alpha if positions is None else 0.3,
                   marker=marker, label=f"{name} ({shown})")
    xs = np.linspace(0, max(train[feature].max(), test[feature].max()), 100)
    ax.plot(xs, intercept + slope * xs, color="black",
            label=f"{target} = {intercept:.3f} + {slope:.5f} × {feature}")
    ax.set(title="Linear fit of sales on TV spend", xlabel=label(feature), ylabel=label(target))
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return fig


def _test_points(x, y):
    """``(x, y, title_suffix, size, alpha)`` of the test-set points drawn: a sample of large sets."""
    positions = sample_positions(len(x))
    if positions is None:
        return x, y, "", 18, 0.8
    return take(x, positions), take(y, positions), f"\n({sample_note(len(x))})", 4, 0.3


def predicted_vs_actual(y_true, y_pred, target):
    """Test-set predictions against the truth; points on the diagonal are exact."""
    import numpy as np

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 6), layout="constrained")
    x, y, note, size, alpha = _test_points(y_true, y_pred)
    ax.scatter(x, y, s=size, alpha=alpha)
    low = float(min(np.min(y_true), np.min(y_pred)))
    high = float(max(np.max(y_true), np.max(y_pred)))
    ax.plot([low, high], [low, high], color="black", linestyle="--", label="perfect prediction")
    ax.set(title="Predicted against actual sales (test set)" + note,
           xlabel=f"Actual {label(target)}", ylabel=f"Predicted {label(target)}")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return fig


def residuals(y_pred, residual, target):
    """Residuals (actual - predicted) against the prediction; a pattern means a missed shape."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    x, y, note, size, alpha = _test_points(y_pred, residual)
    ax.scatter(x, y, s=size, alpha=alpha)
    ax.axhline(0, color="black", linestyle="--")
    ax.set(title="Residuals on the test set" + note, xlabel=f"Predicted {label(target)}",
           ylabel=f"Residual: actual - predicted ({label(target).split('(')[-1].rstrip(')')})")
    ax.grid(alpha=0.3)
    return fig


def what_if(table, feature, target, observed_max, level=None):
    """Predicted sales with their prediction interval (at ``level``) over a range of TV budgets."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    ax.fill_between(table[feature], table["lower"], table["upper"], alpha=0.25,
                    label=f"{level:.0%} prediction interval" if level else "prediction interval")
    ax.plot(table[feature], table["prediction"], marker="o", label="predicted sales")
    ax.axvline(observed_max, color="grey", linestyle=":", label="largest budget in the data")
    ax.set(title="What if: predicted sales by TV budget", xlabel=label(feature),
           ylabel=f"Predicted {label(target)}")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return fig
