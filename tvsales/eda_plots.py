"""Figures of the exploratory analysis (eda step). Each returns a matplotlib Figure."""

from tvsales.plotting import label, pyplot


def scatter(table, feature, target):
    """Every row as a point: how sales move with TV spend."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    ax.scatter(table[feature], table[target], s=18, alpha=0.7, color="tab:blue")
    ax.set(title=f"{target} against {feature} spend ({len(table)} rows)",
           xlabel=label(feature), ylabel=label(target))
    ax.grid(alpha=0.3)
    return fig


def correlation_heatmap(table):
    """Pearson correlations between the columns, annotated."""
    import seaborn as sns

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
    sns.heatmap(table.corr(), annot=True, fmt=".4f", cmap="coolwarm", vmin=-1, vmax=1,
                square=True, ax=ax, cbar_kws={"label": "Pearson correlation"})
    ax.set_title("Correlation between TV spend and sales")
    return fig


def distributions(table):
    """A histogram per column, side by side."""
    import seaborn as sns

    plt = pyplot()
    fig, axes = plt.subplots(1, table.shape[1], figsize=(5 * table.shape[1], 4),
                             layout="constrained", squeeze=False)
    for ax, column in zip(axes[0], table.columns):
        sns.histplot(table[column], bins=20, kde=True, ax=ax, color="tab:blue")
        ax.set(title=f"Distribution of {column}", xlabel=label(column), ylabel="Number of rows")
    return fig
