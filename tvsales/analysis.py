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
    slope, intercept = np.polyfit(x, y, 1)
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
