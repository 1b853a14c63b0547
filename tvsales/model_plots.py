"""Figures of the model: its fit, its errors, its what-if predictions. Each returns a Figure."""

from tvsales.plotting import label, pyplot


def fitted_line(train, test, feature, target, intercept, slope):
    """Train and test points with the fitted line through them."""
    import numpy as np

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    ax.scatter(train[feature], train[target], s=18, alpha=0.6, label=f"train ({len(train)} rows)")
    ax.scatter(test[feature], test[target], s=18, alpha=0.8, marker="s",
               label=f"test ({len(test)} rows)")
    xs = np.linspace(0, max(train[feature].max(), test[feature].max()), 100)
    ax.plot(xs, intercept + slope * xs, color="black",
            label=f"{target} = {intercept:.3f} + {slope:.5f} × {feature}")
    ax.set(title="Linear fit of sales on TV spend", xlabel=label(feature), ylabel=label(target))
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return fig


def predicted_vs_actual(y_true, y_pred, target):
    """Test-set predictions against the truth; points on the diagonal are exact."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 6), layout="constrained")
    ax.scatter(y_true, y_pred, s=18, alpha=0.8)
    low, high = min(min(y_true), min(y_pred)), max(max(y_true), max(y_pred))
    ax.plot([low, high], [low, high], color="black", linestyle="--", label="perfect prediction")
    ax.set(title="Predicted against actual sales (test set)",
           xlabel=f"Actual {label(target)}", ylabel=f"Predicted {label(target)}")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return fig


def residuals(y_pred, residual, target):
    """Residuals (actual - predicted) against the prediction; a pattern means a missed shape."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    ax.scatter(y_pred, residual, s=18, alpha=0.8)
    ax.axhline(0, color="black", linestyle="--")
    ax.set(title="Residuals on the test set", xlabel=f"Predicted {label(target)}",
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
