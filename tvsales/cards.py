"""Step cards: one small self-contained HTML page per step run, and an index of a pipeline's steps.

Like the step cards of MLflow Recipes: what went in (run IDs, parameters, data digests), what
came out (metrics, tables, the step's plots embedded as base64 PNG), how long it took, and
for ``validate`` what was checked and what failed. Pure functions of plain data: the MLflow
side (steps/cards.py) collects the data, these lay it out. Nothing here imports more than
the standard library, so a card costs a step no start-up time.
"""

import base64
import html
from dataclasses import dataclass, field

BODY_START, BODY_END = "<!-- card -->", "<!-- /card -->"
MAX_TABLE_ROWS = 5  # rows of a logged table shown on a card

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 62rem; margin: 1.5rem auto; padding: 0 1rem;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 1.4rem; }
h3 { font-size: 1rem; } h4 { font-size: .9rem; margin-bottom: .2rem; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .9rem; }
td, th { border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; vertical-align: top; }
td.long { word-break: break-all; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: .85rem; }
img { max-width: 100%; border: 1px solid #eee; margin: .3rem 0; }
.status { display: inline-block; padding: .1rem .5rem; border-radius: .3rem; font-weight: 600; }
.FINISHED, .REUSED, .ok { background: #e3f4e1; color: #1d5e17; }
.FAILED, .KILLED, .failed { background: #fbe3e3; color: #8a1414; }
.RUNNING, .missing { background: #f3f0dc; color: #5e5117; }
pre.error { background: #fbe3e3; padding: .5rem; white-space: pre-wrap; }
section.step { border-top: 2px solid #ddd; margin-top: 2rem; }
.muted { color: #666; font-size: .85rem; }
"""


@dataclass
class StepCard:
    """Everything a step card shows; filled by the step's MLflow shell as the step runs."""

    step: str
    run_id: str = ""
    experiment_id: str = ""
    status: str = "RUNNING"
    error: str = ""
    started_at: str = ""            # UTC, ISO 8601
    seconds: float = None           # time in the step's own code
    run_seconds: float = None       # since MLflow created the run: process start-up included
    params: dict = field(default_factory=dict)
    upstream: dict = field(default_factory=dict)       # step -> run ID it read from
    inputs: list = field(default_factory=list)         # dicts: run_id, artifact, rows, columns, sha256
    datasets: list = field(default_factory=list)       # dicts: name, digest, source (MLflow inputs)
    metrics: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)           # the pipeline's own tags (tv_sales.*)
    tables: list = field(default_factory=list)         # dicts: artifact, n_rows, columns, rows
    figures: list = field(default_factory=list)        # (title, artifact, PNG bytes)
    checks: list = field(default_factory=list)         # dicts: check, column, passed
    problems: list = field(default_factory=list)       # messages of the failed checks
    artifacts: list = field(default_factory=list)      # artifact paths of the run


def _e(value):
    return html.escape("" if value is None else str(value))


def format_value(value):
    """A number in at most 6 significant digits, anything else as text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.6g}"


def format_seconds(seconds):
    return "-" if seconds is None else f"{seconds:.1f} s"


def _cell(value):
    """A table cell: numbers right-aligned, long unbroken tokens (digests) allowed to wrap."""
    text = format_value(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<td class="num">{_e(text)}</td>'
    if len(text) > 40 and " " not in text:
        return f'<td class="long">{_e(text)}</td>'
    return f"<td>{_e(text)}</td>"


def key_value_table(mapping, key_header="name", value_header="value", sort=True):
    """A two-column table of ``mapping`` (sorted by key unless ``sort`` is false); "" when empty."""
    if not mapping:
        return ""
    items = sorted(mapping.items()) if sort else mapping.items()
    rows = "".join(f"<tr><td><code>{_e(key)}</code></td>{_cell(value)}</tr>" for key, value in items)
    return f"<table><tr><th>{_e(key_header)}</th><th>{_e(value_header)}</th></tr>{rows}</table>"


def rows_table(rows, columns=None):
    """A table of ``rows`` (dicts); ``columns`` defaults to every key, in order of appearance."""
    if not rows:
        return ""
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    head = "".join(f"<th>{_e(column)}</th>" for column in columns)
    body = "".join("<tr>" + "".join(_cell(row.get(column)) for column in columns) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _status(status):
    return f'<span class="status {_e(status)}">{_e(status)}</span>'


def _section(title, content):
    return f"<h2>{_e(title)}</h2>\n{content}\n" if content else ""


def _inputs_html(card):
    parts = []
    if card.upstream:
        parts.append(key_value_table(card.upstream, "upstream step", "run ID"))
    if card.params:
        parts.append("<h3>Parameters</h3>" + key_value_table(card.params, "parameter"))
    if card.inputs:
        parts.append("<h3>Data read</h3>" + rows_table(
            [{"artifact": item["artifact"], "of run": item["run_id"], "rows": item.get("rows"),
              "columns": item.get("columns"), "sha256": item.get("sha256")} for item in card.inputs]))
    if card.datasets:
        parts.append("<h3>MLflow dataset inputs</h3>" + rows_table(card.datasets,
                                                                   ["name", "digest", "source"]))
    return "\n".join(parts)


def _checks_html(card):
    if not card.checks and not card.problems:
        return ""
    rows = [{"check": check.get("check"), "column": check.get("column") or "-",
             "result": "ok" if check.get("passed") else "FAILED"} for check in card.checks]
    table = rows_table(rows, ["check", "column", "result"])
    failed = sum(1 for check in card.checks if not check.get("passed"))
    summary = (f"<p>{len(card.checks)} check(s), <b>{failed} failed</b>.</p>" if failed
               else f"<p>{len(card.checks)} check(s), all passed.</p>")
    problems = ""
    if card.problems:
        problems = "<h3>What failed</h3><ul>" + "".join(
            f"<li>{_e(message)}</li>" for message in card.problems) + "</ul>"
    return summary + table + problems


def _tables_html(card):
    parts = []
    for table in card.tables:
        shown = table["rows"][:MAX_TABLE_ROWS]
        parts.append(
            f"<h4><code>{_e(table['artifact'])}</code></h4>"
            f"<p class=\"muted\">{format_value(table['n_rows'])} rows × {len(table['columns'])} "
            f"columns; the first {len(shown)} rows:</p>" + rows_table(shown, table["columns"]))
    return "\n".join(parts)


def figure_html(title, artifact, png):
    """One figure, embedded as a base64 PNG, titled, with its artifact path."""
    data = base64.b64encode(png).decode("ascii")
    return (f"<figure><img alt=\"{_e(title)}\" src=\"data:image/png;base64,{data}\">"
            f"<figcaption class=\"muted\">{_e(title)} (<code>{_e(artifact)}</code>)</figcaption></figure>")


def card_body(card):
    """The card's content, without the page around it (the index card embeds it)."""
    timing = {"started at (UTC)": card.started_at, "time in the step's code": format_seconds(card.seconds),
              "time since the run was created (start-up included)": format_seconds(card.run_seconds)}
    head = (f"<h1>Step <code>{_e(card.step)}</code> {_status(card.status)}</h1>\n"
            f"<p>Run <code>{_e(card.run_id)}</code>"
            + (f" in experiment {_e(card.experiment_id)}" if card.experiment_id else "") + "</p>\n"
            + key_value_table(timing, "when", "", sort=False))
    error = f"<pre class=\"error\">{_e(card.error)}</pre>" if card.error else ""
    outputs = "\n".join(filter(None, [
        "<h3>Metrics</h3>" + key_value_table(card.metrics, "metric") if card.metrics else "",
        "<h3>Tags</h3>" + key_value_table(card.tags, "tag") if card.tags else "",
        "<h3>Tables</h3>" + _tables_html(card) if card.tables else "",
        "<h3>Figures</h3>" + "".join(figure_html(*figure) for figure in card.figures) if card.figures else "",
        "<h3>Artifacts</h3><ul>" + "".join(f"<li><code>{_e(path)}</code></li>"
                                           for path in card.artifacts) + "</ul>"
        if card.artifacts else "",
    ]))
    return (head + error + _section("What went in", _inputs_html(card))
            + _section("What was checked", _checks_html(card))
            + _section("What came out", outputs))


def page(title, body):
    """A complete HTML page around ``body``, with the cards' style."""
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{STYLE}</style></head>\n<body>\n"
            f"{BODY_START}\n{body}\n{BODY_END}\n</body></html>\n")


def step_card_html(card):
    """The step card of ``card`` as a self-contained HTML page."""
    return page(f"{card.step} step card: run {card.run_id}", card_body(card))


def body_of(card_page):
    """The content of a page made by ``page`` (the part the index embeds), or None."""
    start, end = card_page.find(BODY_START), card_page.rfind(BODY_END)
    if start < 0 or end < start:
        return None
    return card_page[start + len(BODY_START):end].strip()


def index_card_html(run_id, status, rows, cards, params=None, model=None, seconds=None):
    """The pipeline's index card: a table of its steps, linked to their cards embedded below.

    ``rows``: dicts with step, run_id, status, seconds (the driver's summary); ``cards``:
    ``{step: card page or None}``; ``model``: e.g. "tv-sales-regressor version 2 (champion)".
    """
    table = "<table><tr><th>step</th><th>run ID</th><th>status</th><th>seconds</th><th>card</th></tr>"
    for row in rows:
        step = row["step"]
        has_card = bool(cards.get(step))
        link = f'<a href="#step-{_e(step)}">card</a>' if has_card else '<span class="missing">no card</span>'
        table += (f"<tr><td><a href=\"#step-{_e(step)}\">{_e(step)}</a></td><td><code>{_e(row['run_id'])}"
                  f"</code></td><td>{_status(row['status'])}</td>"
                  f"<td class=\"num\">{'reused' if row['status'] == 'REUSED' else format_seconds(row['seconds'])}"
                  f"</td><td>{link}</td></tr>")
    table += "</table>"
    head = (f"<h1>Pipeline run {_status(status)}</h1>\n<p>Run <code>{_e(run_id)}</code>"
            + (f", {format_seconds(seconds)} in all" if seconds is not None else "") + ".</p>\n"
            + (f"<p>Registered model: <b>{_e(model)}</b></p>\n" if model else "")
            + _section("Parameters", key_value_table(params or {}, "parameter"))
            + _section("Steps", table))
    sections = []
    for row in rows:
        step = row["step"]
        body = body_of(cards[step]) if cards.get(step) else None
        note = ("<p class=\"muted\">Reused from an earlier pipeline run: its card is that run's.</p>"
                if row["status"] == "REUSED" else "")
        sections.append(f"<section class=\"step\" id=\"step-{_e(step)}\">{note}"
                        + (body or f"<h1>Step <code>{_e(step)}</code></h1><p class=\"missing\">"
                                   "This run has no step card.</p>") + "</section>")
    return page(f"pipeline run {run_id}: index of its steps", head + "\n".join(sections))
