"""The exploratory report: the business questions answered in words, with this run's numbers."""

from tvsales.analysis import correlation_strength

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
