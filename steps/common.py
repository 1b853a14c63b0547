"""What every step shares on the MLflow side: its run, its parameters, its upstream runs."""

import contextlib
import json
import os
import signal
import sys
import tempfile
from pathlib import Path

from steps.access import AccessDenied, access_errors
from tvsales.config import load_config
from tvsales.errors import PipelineError

STEP_TAG = "tv_sales.step"          # which entry point produced a run
ERROR_TAG = "tv_sales.error"        # the user-facing message of a failed step
UPSTREAM_TAG = "tv_sales.upstream."  # + step name: run ID of an upstream step
PYTHON_TAG = "tv_sales.python_env"  # sys.prefix of the step's interpreter: the env manager at work
LAUNCHED_TAG = "tv_sales.launched_run_id"  # on a launcher run: the run the step really logged to
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"


# How long the pipeline's processes wait for a tracking server that does not answer, unless the
# user set these MLflow variables: 3 retries, 0 + 2 + 4 s apart (+ up to 1 s jitter each), and 30 s
# per request, instead of MLflow's 7 retries over about 4 minutes.
HTTP_RETRY_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                       "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}
REACHABILITY_TIMEOUT = 5  # seconds: the quick check that a tracking server answers at all


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: the run ends KILLED. Reads as the signal's name."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def stop_on_signals(on_first=None):
    """Turn the first SIGINT or SIGTERM into Interrupted in the main thread; ignore later ones.

    Later signals (``mlflow run`` follows Ctrl-C with SIGTERM) must not cut short the
    clean-up the first one started. ``on_first(signum)`` runs before the exception is raised.
    """
    received = []

    def handler(signum, frame):
        if received:
            return
        received.append(signum)
        if on_first:
            on_first(signum)
        raise Interrupted(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)


def bound_http_retries():
    """Use HTTP_RETRY_DEFAULTS for every MLflow variable the user did not set (inherited by the steps)."""
    for name, value in HTTP_RETRY_DEFAULTS.items():
        os.environ.setdefault(name, value)


def tracking_server_problem(timeout=REACHABILITY_TIMEOUT):
    """None when the tracking store answers (or is not a server); else what is wrong, in words.

    One request to the server's ``/health``, no retries: any HTTP answer counts as reachable.
    """
    import re

    import mlflow
    import requests

    uri = mlflow.get_tracking_uri()
    if not uri.lower().startswith(("http://", "https://")):
        return None
    try:
        requests.get(uri.rstrip("/") + "/health", timeout=timeout)
    except requests.Timeout:
        return f"the tracking server {uri} did not answer within {timeout} s"
    except requests.RequestException as error:
        reason = re.search(r"\[Errno -?\d+\][^'\")]*", str(error))
        return f"the tracking server {uri} does not answer ({reason.group(0) if reason else error})"
    return None


def run_step(step, work, params=None, overrides=None):
    """Run ``work(config)`` as the MLflow run of ``step`` and exit like a command should.

    ``overrides`` are the ``-P`` values that change ``config.yaml``'s defaults; they are
    logged as parameters with the values in force, beside the other ``params`` (run IDs,
    flags). A PipelineError is printed as one message (no
    traceback), tagged on the run, the run is marked FAILED and the process exits 1; a
    tracking server's refusal (HTTP 401/403) becomes such a message too. Any
    other exception is a bug or a damaged artifact: its traceback is printed and logged
    (``error/traceback.txt``), the run is marked FAILED with the message, and the process
    exits 1. Ctrl-C or SIGTERM marks the run KILLED and exits 128 + the signal's number.
    The run's step card (steps/cards.py) is logged at the end, whether the step passed or failed.
    """
    from steps.cards import log_card, start_card

    stop_on_signals()
    bound_http_retries()
    start_card(step)
    try:
        config = load_config(**(overrides or {}))
        import mlflow
    except PipelineError as error:
        _exit_with(step, error)
    except Interrupted as interrupted:  # before the run started: the driver marks it
        _exit_interrupted(step, interrupted)
    try:
        with access_errors(config):
            start_step_run(step, config)
    except PipelineError as error:  # refused by the server: there is no run to mark
        _exit_with(step, error)
    except Interrupted as interrupted:
        _end_killed(interrupted)
        _exit_interrupted(step, interrupted)
    except Exception as error:  # noqa: BLE001 - a store that does not answer, or a bug
        _fail_unexpectedly(step, error)
    try:
        with access_errors(config):
            log_params({**(params or {}), **{key: getattr(config, key) for key in overrides or {}}})
            work(config)
            log_card("FINISHED")
    except PipelineError as error:
        _record_failure(error)
        _exit_with(step, error)
    except Interrupted as interrupted:
        _end_killed(interrupted)
        _exit_interrupted(step, interrupted)
    except Exception as error:  # noqa: BLE001 - not the user's mistake: a bug or a damaged artifact
        _fail_unexpectedly(step, error)
    except BaseException:
        mlflow.end_run("FAILED")
        raise
    log_peak_memory()
    mlflow.end_run()
    skip_final_collection()


def log_peak_memory():
    """Log the process's peak resident set so far as the metric ``peak_rss_mb`` (read by benchmarks/scale.py)."""
    import resource

    import mlflow

    kilobytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    mlflow.log_metric("peak_rss_mb", kilobytes / 1024)


def _end_killed(interrupted):
    import mlflow

    if mlflow.active_run():
        mlflow.set_tag(ERROR_TAG, f"interrupted by {interrupted}")
        mlflow.end_run("KILLED")


def skip_final_collection():
    """Spare the exiting interpreter its last full garbage collection.

    With MLflow, pandas and scikit-learn imported that pass takes half a second or more,
    and every step is a process of its own; ``gc.freeze`` leaves the objects alive now
    out of it (they are released with the process, as they would be anyway).
    """
    import gc

    gc.freeze()


def _fail_unexpectedly(step, error):
    """Report an exception that is not a PipelineError; mark the run FAILED if the store answers."""
    import traceback

    import mlflow

    server_problem = tracking_server_problem()
    if server_problem:  # say so without a traceback
        _exit_with(step, f"{server_problem}; {end_run_without_waiting('FAILED')}.")
    text = traceback.format_exc()
    print(text, file=sys.stderr, flush=True)
    message = f"unexpected {type(error).__name__}: {error}"
    if mlflow.active_run():
        from steps.cards import log_card

        mlflow.set_tag(ERROR_TAG, message[:5000])
        with contextlib.suppress(Exception):  # best effort: the artifact store may be what failed
            mlflow.log_text(text, "error/traceback.txt")
            log_card("FAILED", message)
        mlflow.end_run("FAILED")
    _exit_with(step, f"{message} (traceback above).")


def end_run_without_waiting(status):
    """End the active run with one quick request (no retries); says what became of it.

    Once the tracking server is known not to answer, waiting for retries helps no one; and
    the run must not stay active, or MLflow ends it FINISHED when the process exits.
    """
    import mlflow

    if not mlflow.active_run():  # the server stopped answering before the run was resumed here
        return f"the run could not be marked {status}"
    os.environ.update(MLFLOW_HTTP_REQUEST_MAX_RETRIES="0", MLFLOW_HTTP_REQUEST_TIMEOUT=str(REACHABILITY_TIMEOUT))
    try:
        mlflow.end_run(status)  # pops the run first, so nothing is left for MLflow's exit hook
    except Exception:  # noqa: BLE001 - the server does not answer: that is already being reported
        return f"the run could not be marked {status}"
    return f"the run is marked {status}"


def _exit_interrupted(step, interrupted):
    print(f"\n{step} interrupted by {interrupted}.\n", file=sys.stderr, flush=True)
    sys.exit(128 + interrupted.signum)


def _record_failure(error):
    """Tag the active run with the message, log its card and mark it FAILED.

    After a refusal (AccessDenied) the server may refuse these writes too; what it refuses
    is left undone, quietly: the message printed is the one that matters.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from steps.cards import log_card

    try:
        mlflow.set_tag(ERROR_TAG, str(error)[:5000])
        log_card("FAILED", str(error))
        mlflow.end_run("FAILED")
    except MlflowException:
        if not isinstance(error, AccessDenied):
            raise


def _exit_with(step, error):
    print(f"\n{step} failed: {error}\n", file=sys.stderr, flush=True)
    sys.exit(1)


def start_step_run(step, config):
    """Start the step's run in the configured experiment and tag it with the step's name.

    ``mlflow run`` hands the step a run (MLFLOW_RUN_ID). That run is used when it lies in
    the configured experiment or in one the user chose; a run that MLflow put in the
    Default experiment only because none was named becomes a launcher: the step runs as a
    new run in the configured experiment, and the launcher's note points to it.
    """
    import mlflow

    client = mlflow.tracking.MlflowClient()
    given = os.environ.pop("MLFLOW_RUN_ID", None)
    os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
    launcher = None
    if given:
        experiment_id = client.get_run(given).info.experiment_id
        if experiment_id != "0" or client.get_experiment("0").name == config.experiment_name:
            run = mlflow.start_run(run_id=given)
            mlflow.set_tags({STEP_TAG: step, PYTHON_TAG: sys.prefix})
            return run
        launcher = given
    experiment = mlflow.set_experiment(config.experiment_name)
    if EXPERIMENT_KIND_TAG not in experiment.tags:  # the UI then opens it as model training, not GenAI
        client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, "custom_model_development")
    tags = {STEP_TAG: step, PYTHON_TAG: sys.prefix}
    if launcher:
        tags["tv_sales.launcher_run_id"] = launcher
    run = mlflow.start_run(run_name=step, tags=tags)
    if launcher:
        client.set_tag(launcher, "mlflow.runName", f"launcher of {step} ({config.experiment_name})")
        client.set_tag(launcher, LAUNCHED_TAG, run.info.run_id)
        client.set_tag(launcher, "mlflow.note.content",
                       f"Launcher only: the {step} step ran as run {run.info.run_id} in "
                       f"experiment '{config.experiment_name}' (config.yaml).")
        print(f"{step}: logging to experiment '{config.experiment_name}' as run "
              f"{run.info.run_id}", file=sys.stderr, flush=True)
    return run


def log_params(params):
    """Log ``params`` on the active run, each value in its canonical string form.

    ``mlflow run`` logs the values exactly as typed (``.33``, or ``""`` for "use the
    config default") before the step starts, and MLflow refuses to change a logged
    value; where the step's resolved value differs, it is recorded as a tag
    ``tv_sales.param.<name>`` instead.
    """
    import mlflow

    logged = mlflow.get_run(mlflow.active_run().info.run_id).data.params
    new = {}
    for key, value in params.items():
        value = "" if value is None else str(value)
        if key not in logged:
            new[key] = value
        elif logged[key] != value:
            mlflow.set_tag(f"tv_sales.param.{key}", value)
    if new:
        mlflow.log_params(new)


def upstream_run(run_id, step, parameter):
    """The FINISHED run of ``step`` with ID ``run_id``, or a PipelineError saying what is wrong."""
    import mlflow
    from mlflow.exceptions import MlflowException

    if not run_id or not str(run_id).strip():
        raise PipelineError(f"parameter '{parameter}' is required: the run ID of a {step} run.")
    try:
        run = mlflow.get_run(str(run_id).strip())
    except MlflowException:
        if tracking_server_problem():
            raise  # not a wrong run ID: the server stopped answering
        raise PipelineError(
            f"parameter '{parameter}': no run with ID {run_id!r} in the tracking store "
            f"{mlflow.get_tracking_uri()}."
        ) from None
    if LAUNCHED_TAG in run.data.tags:  # the ID `mlflow run` printed last: follow it to the step's run
        print(f"note: run {run_id} is the launcher `mlflow run` started; using the run it launched, "
              f"{run.data.tags[LAUNCHED_TAG]}", file=sys.stderr)
        run = mlflow.get_run(run.data.tags[LAUNCHED_TAG])
        run_id = run.info.run_id
    actual = run.data.tags.get(STEP_TAG)
    if actual != step:
        what = f"a run of step '{actual}'" if actual else "not a run of this pipeline"
        raise PipelineError(
            f"parameter '{parameter}': run {run_id} is {what}; expected a run of step '{step}'."
        )
    if run.info.status != "FINISHED":
        raise PipelineError(
            f"parameter '{parameter}': the {step} run {run_id} is {run.info.status}, not FINISHED; "
            "rerun that step first."
        )
    return run


def tag_lineage(upstream):
    """Tag the active run with ``upstream``'s run ID and, through it, every earlier step's.

    Returns ``{step: run_id}`` of all of them.
    """
    import mlflow

    tags = {key: value for key, value in upstream.data.tags.items() if key.startswith(UPSTREAM_TAG)}
    tags[UPSTREAM_TAG + upstream.data.tags[STEP_TAG]] = upstream.info.run_id
    mlflow.set_tags(tags)
    return {key[len(UPSTREAM_TAG):]: value for key, value in tags.items()}


def download(run, artifact_path):
    """Download one artifact of ``run`` to a temporary directory; returns its local path."""
    import mlflow

    return Path(mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path=artifact_path, dst_path=tempfile.mkdtemp()
    ))


def read_parquet_artifact(run, artifact_path, columns=None):
    """A DataFrame logged as Parquet by ``run`` (only ``columns``, when given); the step card records
    it as an input."""
    import pandas as pd

    from steps.cards import note_input

    path = download(run, artifact_path)
    table = pd.read_parquet(path, columns=columns)
    note_input(run.info.run_id, artifact_path, table, path)
    return table


def log_dataset_input(dataset, context):
    """``mlflow.log_input``, tried once more if a concurrent run logged the same dataset first.

    MLflow's SQL store looks the dataset up, then inserts it: two pipelines that ingest the
    same file at the same moment can both miss it, and the second insert then breaks the
    store's uniqueness of (experiment, name, digest). The second try finds the first's row.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        mlflow.log_input(dataset, context=context)
    except MlflowException as error:
        text = str(error).lower()
        if "dataset" not in text or not ("unique" in text or "duplicate" in text):
            raise
        mlflow.log_input(dataset, context=context)


def log_table(table, artifact_file):
    """Log a DataFrame as a Parquet artifact of the active run (and show its head on the card)."""
    import mlflow

    from steps.cards import note_table

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(artifact_file).name
        table.to_parquet(path, index=False)
        mlflow.log_artifact(str(path), str(Path(artifact_file).parent) if "/" in artifact_file else None)
    note_table(table, artifact_file)


def log_json(data, artifact_file):
    import mlflow

    mlflow.log_text(json.dumps(data, indent=2, sort_keys=True, default=str), artifact_file)


def figure_png(fig):
    """A matplotlib figure as PNG bytes; the figure is closed."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def log_figure(fig, artifact_file):
    """Log a matplotlib figure as PNG (embedded in the step card too); returns the PNG bytes."""
    from steps.cards import note_figure

    png = figure_png(fig)
    note_figure(fig, artifact_file, png)
    return log_png(png, artifact_file)


def log_png(png, artifact_file):
    """Log PNG bytes as an artifact of the active run; returns them."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(artifact_file).name
        path.write_bytes(png)
        mlflow.log_artifact(str(path), str(Path(artifact_file).parent) if "/" in artifact_file else None)
    return png
