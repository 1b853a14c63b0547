"""The MLflow side of the step cards: collect what a step reads and logs, log its card at the end.

Each step is its own process, so one card per process: ``run_step`` starts it, the helpers
of steps/common.py (``read_parquet_artifact``, ``log_table``, ``log_figure``) add to it, and
``log_card`` fills in the rest from the run itself (parameters, metrics, tags, inputs,
artifacts) and logs ``card/<step>.html``. The driver logs ``card/index.html``: its steps,
each card embedded. Layout: tvsales/cards.py.
"""

import sys
import time
from datetime import datetime, timezone

from tvsales.cards import MAX_TABLE_ROWS, StepCard, index_card_html, step_card_html

CARD_DIR = "card"
# shown elsewhere on the card (upstream runs, the error) or of no use to a reader
SKIPPED_TAGS = ("tv_sales.upstream.", "tv_sales.error", "tv_sales.python_env", "tv_sales.cache_key",
                "tv_sales.step")

_card = None
_began = None


def start_card(step):
    """Start this process's card (called by run_step before the run starts)."""
    global _card, _began
    _card = StepCard(step=step, started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    _began = time.monotonic()
    return _card


def current_card():
    """This process's card, or None outside ``run_step``."""
    return _card


def note_input(run_id, artifact, table, local_path):
    """A table the step read from an upstream run's artifact."""
    if _card is None:
        return
    from steps.cache import file_sha256

    _card.inputs.append({"run_id": run_id, "artifact": artifact, "rows": len(table),
                         "columns": table.shape[1], "sha256": file_sha256(local_path)})


def note_table(table, artifact):
    """A table the step logged: its size and first rows."""
    if _card is None:
        return
    head = table.head(MAX_TABLE_ROWS)
    _card.tables.append({"artifact": artifact, "n_rows": len(table),
                         "columns": [str(column) for column in table.columns],
                         "rows": [{str(key): _plain(value) for key, value in row.items()}
                                  for row in head.to_dict("records")]})


def note_figure(fig, artifact, png):
    """A figure the step logged, titled by its first axes' title."""
    if _card is None:
        return
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    _card.figures.append((titles[0] if titles else artifact, artifact, png))


def note_checks(checks, problems):
    """What validate checked (dicts: check, column, passed) and the messages of what failed."""
    if _card is None:
        return
    _card.checks = list(checks)
    _card.problems = list(problems)


def _plain(value):
    """A numpy scalar as a Python number (for formatting), anything else unchanged."""
    return value.item() if hasattr(value, "item") else value


def artifact_paths(client, run_id, path=None, depth=3):
    """Every file artifact of the run, down to ``depth`` directories (the card's own excluded)."""
    found = []
    for item in client.list_artifacts(run_id, path):
        if item.path == CARD_DIR:
            continue
        if item.is_dir and depth > 1:
            found += artifact_paths(client, run_id, item.path, depth - 1)
        else:
            found.append(item.path + ("/" if item.is_dir else ""))
    return found


def log_card(status, error=""):
    """Fill the card from the active run and log it as ``card/<step>.html``.

    Best effort: a card that cannot be logged is reported, never turned into a failed step.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    card = _card
    if card is None or mlflow.active_run() is None:
        return
    try:
        client = mlflow.tracking.MlflowClient()
        run = client.get_run(mlflow.active_run().info.run_id)
        card.run_id, card.experiment_id = run.info.run_id, run.info.experiment_id
        card.status, card.error = status, error
        card.seconds = time.monotonic() - _began
        card.run_seconds = time.time() - run.info.start_time / 1000
        card.params = dict(run.data.params)
        card.metrics = dict(run.data.metrics)
        tags = run.data.tags
        card.upstream = {key[len("tv_sales.upstream."):]: value for key, value in tags.items()
                         if key.startswith("tv_sales.upstream.")}
        card.tags = {key: value for key, value in tags.items()
                     if key.startswith("tv_sales.") and not key.startswith(SKIPPED_TAGS)}
        card.datasets = [{"name": item.dataset.name, "digest": item.dataset.digest,
                          "source": item.dataset.source}
                         for item in (run.inputs.dataset_inputs if run.inputs else [])]
        card.artifacts = artifact_paths(client, run.info.run_id)
        mlflow.log_text(step_card_html(card), f"{CARD_DIR}/{card.step}.html")
    except (MlflowException, OSError) as problem:
        print(f"{card.step}: warning: the step card was not logged: {problem}", file=sys.stderr)


def log_index_card(parent_run_id, status, rows, params=None, model=None, seconds=None):
    """Log the driver's ``card/index.html``: its steps' table, each step's card embedded."""
    import mlflow
    from mlflow.exceptions import MlflowException

    cards = {}
    for row in rows:
        try:
            cards[row["step"]] = mlflow.artifacts.load_text(
                f"runs:/{row['run_id']}/{CARD_DIR}/{row['step']}.html")
        except (MlflowException, OSError):
            cards[row["step"]] = None
    mlflow.log_text(index_card_html(parent_run_id, status, rows, cards, params, model, seconds),
                    f"{CARD_DIR}/index.html")
