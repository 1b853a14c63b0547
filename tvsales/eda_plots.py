"""Figures of the exploratory analysis (eda step). Each returns a matplotlib Figure."""

from tvsales.plotting import PLOT_POINTS, label, pyplot, sample_note, sample_positions, take


def scatter(table, feature, target):
    """Every row as a point (a random sample of PLOT_POINTS of them for larger tables)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    positions = sample_positions(len(table))
    if positions is None:
        ax.scatter(table[feature], table[target], s=18, alpha=0.7, color="tab:blue")
        ax.set_title(f"{target} against {feature} spend ({len(table)} rows)")
    else:
        ax.scatter(take(table[feature], positions), take(table[target], positions), s=4, alpha=0.3,
                   color="tab:blue")
        ax.set_title(f"{target} against {feature} spend\n({sample_note(len(table))})")
    ax.set(xlabel=label(feature), ylabel=label(target))
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


def distributions(table, bins=20):
    """A histogram per column, side by side.

    Up to PLOT_POINTS rows, seaborn's histogram with a density curve; beyond, every row
    binned with numpy (a density estimate over millions of rows is slow and adds nothing).
    """
    plt = pyplot()
    fig, axes = plt.subplots(1, table.shape[1], figsize=(5 * table.shape[1], 4),
                             layout="constrained", squeeze=False)
    for ax, column in zip(axes[0], table.columns):
        title = f"Distribution of {column}"
        if len(table) <= PLOT_POINTS:
            import seaborn as sns

            sns.histplot(table[column], bins=bins, kde=True, ax=ax, color="tab:blue")
        else:
            import numpy as np

            counts, edges = np.histogram(table[column].to_numpy(), bins=bins)
            ax.stairs(counts, edges, fill=True, alpha=0.6, color="tab:blue", edgecolor="tab:blue")
            ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 4))
            title += f"\n(all {len(table):,} rows, {bins} bins)"
        ax.set(title=title, xlabel=label(column), ylabel="Number of rows")
    return fig
