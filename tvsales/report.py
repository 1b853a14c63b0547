"""The exploratory report: the business questions answered in words, with this run's numbers."""

from tvsales.analysis import correlation_strength, least_squares_line

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
td, th { border: 1px solid #ccc; padding: .3rem .6rem; text-align: right; }
th { background: #f3f3f3; }
img { max-width: 100%; border: 1px solid #eee; margin: .5rem 0; }
"""


def eda_report_html(answers, statistics, images, source, feature, target):
    """Self-contained HTML: answers, statistics table, figures embedded as PNG."""
    import base64
    import html

    r = answers["correlation"]
    answers_html = f"""
<h2>How much is spent on TV advertising?</h2>
<p>{answers['tv_total']:,.1f} thousand dollars in all over {answers['n_rows']:.0f} periods,
{answers['tv_mean']:,.2f} thousand dollars on average per period.</p>
<h2>How much is sold?</h2>
<p>{answers['sales_total']:,.1f} thousand units in all, {answers['sales_mean']:,.2f} thousand
units on average per period: {answers['sales_per_tv']:.4f} thousand units sold per thousand
dollars of TV spend.</p>
<h2>How do sales relate to TV spend?</h2>
<p>The Pearson correlation is <b>{r:.4f}</b>: {correlation_strength(r)} relation
(R² of a straight line through all rows: {r * r:.4f}, so TV spend alone accounts for about
{100 * r * r:.0f}&nbsp;% of the variation in sales). Along a least-squares line, each extra
thousand dollars of TV spend goes with <b>{answers['marginal_sales_per_tv']:.4f}</b> thousand
extra units sold ({1000 * answers['marginal_sales_per_tv']:.1f} units), starting from
{answers['sales_at_zero_tv']:.2f} thousand units with no TV spend at all.</p>
<p>This is an association in historical data, not proof that TV spend causes the sales;
other channels and seasons are not in this table.</p>
"""
    figures = "".join(
        f'<h3>{html.escape(title)}</h3><img alt="{html.escape(title)}" '
        f'src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        for title, png in images.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TV and sales: exploratory report</title>
<style>{STYLE}</style></head><body>
<h1>TV advertising and sales: exploratory report</h1>
<p>Data: <code>{html.escape(source)}</code>; {html.escape(feature)} is
{html.escape(feature)} spend in thousand dollars, {html.escape(target)} is units sold in thousands.</p>
{answers_html}
<h2>Descriptive statistics</h2>
{statistics.to_html(float_format=lambda v: f"{v:,.4f}", border=0)}
<h2>Figures</h2>
{figures}
</body></html>
"""


def what_if_budgets(tv_max, steps=7):
    """Round TV budgets from 0 to a little past the largest observed spend."""
    import numpy as np

    top = float(np.ceil(tv_max / 50.0) * 50.0)
    return np.linspace(0.0, top, steps)


def errors_grow_with(x, y):
    """True when the size of a straight line's errors clearly grows with ``x`` (correlation > 0.2)."""
    import numpy as np

    intercept, slope = least_squares_line(x, y)
    return bool(np.corrcoef(x, np.abs(y - intercept - slope * x))[0, 1] > 0.2)


def recommendation(slope, slope_ci, level, test_metrics, baseline, tv_range, errors_grow):
    """The recommendation, in sentences built from the numbers (thousand $ and thousand units)."""
    low, high = slope_ci
    units = 1000 * slope
    sentences = []
    if low > 0:
        sentences.append(
            f"TV advertising is clearly associated with sales: each extra thousand dollars of TV spend "
            f"goes with about {units:.0f} more units sold ({level:.0%} confidence interval "
            f"{1000 * low:.0f} to {1000 * high:.0f} units).")
        sentences.append(
            f"Extra TV spend pays for itself when a unit sold earns more than about "
            f"${1000 / units:,.2f} of margin (${1000 / (1000 * low):,.2f} at the cautious end of the "
            "interval); below that margin, it does not.")
    else:
        sentences.append(
            f"The data do not show that more TV spend brings more sales: the {level:.0%} confidence "
            f"interval of the effect ({1000 * low:.0f} to {1000 * high:.0f} units per thousand dollars) "
            "includes zero. Do not raise the TV budget on this evidence.")
    better = 1 - test_metrics["rmse"] / baseline["rmse"]
    sentences.append(
        f"The model is {'useful' if better > 0.2 else 'only marginally useful'} for planning: on unseen "
        f"periods its typical error (RMSE) is {test_metrics['rmse']:.2f} thousand units, "
        f"{better:.0%} smaller than always guessing the average, and it explains "
        f"{test_metrics['r2']:.0%} of the variation in sales (R²); plan with its prediction intervals, "
        "not the single numbers.")
    sentences.append(
        f"Limits: one variable explains part of sales only ({1 - test_metrics['r2']:.0%} is left "
        "unexplained: other channels, season, price, competitors are not in the data); this is an "
        "association in past data, not proof that TV causes the sales; the relation is fitted for "
        f"budgets between {tv_range[0]:,.1f} and {tv_range[1]:,.1f} thousand dollars and should not be "
        "extended far beyond" + ("; and the errors grow with the budget, so predictions for large "
                                 "budgets are less certain than their intervals suggest." if errors_grow
                                 else "."))
    return sentences


def business_report_html(answers, test_metrics, baseline, slope, slope_ci, level, what_if,
                         what_if_png, model_ref, tv_range, errors_grow):
    """The final report of a pipeline run, self-contained HTML."""
    import base64
    import html

    rows = "".join(
        f"<tr><td>{r.TV:,.0f}</td><td>{r.prediction:,.2f}</td><td>{r.lower:,.2f}</td>"
        f"<td>{r.upper:,.2f}</td></tr>" for r in what_if.itertuples())
    metric_rows = "".join(
        f"<tr><th>{label}</th><td>{test_metrics[key]:.4f}</td><td>{baseline[key]:.4f}</td></tr>"
        for key, label in (("mae", "MAE (thousand units)"), ("mape", "MAPE (fraction)"),
                           ("r2", "R²"), ("rmse", "RMSE (thousand units)")))
    advice = "".join(f"<li>{html.escape(s)}</li>" for s in recommendation(
        slope, slope_ci, level, test_metrics, baseline, tv_range, errors_grow))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TV advertising and sales: what the data say</title>
<style>{STYLE}</style></head><body>
<h1>TV advertising and sales: what the data say</h1>
<p>Model: {html.escape(model_ref)}.</p>
<h2>How much is spent on TV?</h2>
<p>{answers['tv_total']:,.1f} thousand dollars over {answers['n_rows']:.0f} periods,
{answers['tv_mean']:,.2f} thousand dollars per period on average.</p>
<h2>How do sales relate to it?</h2>
<p>{answers['sales_total']:,.1f} thousand units sold, {answers['sales_mean']:,.2f} per period.
Correlation with TV spend: <b>{answers['correlation']:.4f}</b>,
{correlation_strength(answers['correlation'])} relation.</p>
<h2>How many extra sales does one more thousand dollars of TV bring?</h2>
<p><b>{slope:.4f}</b> thousand units ({1000 * slope:.1f} units), {level:.0%} confidence interval
{slope_ci[0]:.4f} to {slope_ci[1]:.4f}.</p>
<h2>How well does the model predict?</h2>
<table><tr><th>test set</th><th>model</th><th>baseline: training mean</th></tr>{metric_rows}</table>
<h2>What if: predicted sales by TV budget</h2>
<table><tr><th>TV budget (thousand $)</th><th>predicted sales (thousand units)</th>
<th>{level:.0%} interval: lower</th><th>upper</th></tr>{rows}</table>
<img alt="What-if plot" src="data:image/png;base64,{base64.b64encode(what_if_png).decode()}">
<h2>Recommendation</h2>
<ul>{advice}</ul>
</body></html>
"""
