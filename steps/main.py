"""The driver: ingest -> validate -> (eda | train -> evaluate) -> register, one MLflow run per step.

Each step runs with ``mlflow.run`` under the env manager this pipeline was started with,
as a child of the driver's run, and receives the run ID of the step before it. A step
whose cache key matches a FINISHED run is not run again: that run is reused. ``eda``
needs only the validated data, so it runs beside ``train`` -> ``evaluate``.

Interruption: the driver leads a process group of its own, which every step process
inherits. Ctrl-C reaches ``mlflow run``, which sends SIGTERM to that group; SIGTERM to the
driver, or ``mlflow run`` disappearing, makes the driver send it itself. Every process then
marks its run KILLED; the driver also marks any run of this pipeline still RUNNING.
"""

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from steps.access import access_errors
from steps.business_report import BusinessReport
from steps.cache import KEY_TAG, cache_key, reusable_run
from steps.cards import log_index_card
from steps.common import (ERROR_TAG, STEP_TAG, Interrupted, bound_http_retries, end_run_without_waiting,
                          log_json, log_params, skip_final_collection, start_step_run, stop_on_signals,
                          tracking_server_problem)
from tvsales.config import PROJECT_DIR, load_config, parse_bool
from tvsales.errors import PipelineError

STEPS = ("ingest", "validate", "eda", "train", "evaluate", "register")
# The run `mlflow run` created for the driver: its own run, or a launcher (see start_step_run).
GIVEN_RUN_ID = os.environ.get("MLFLOW_RUN_ID")


class StepFailed(Exception):
    """A step ended other than FINISHED; the pipeline stops."""


def step_parameters(step, config, run_ids, force):
    """The ``-P`` parameters of ``step``, given the run IDs of the steps already done."""
    return {
        "ingest": lambda: {"data_path": config.data_path},
        "validate": lambda: {"ingest_run_id": run_ids["ingest"]},
        "eda": lambda: {"validate_run_id": run_ids["validate"]},
        "train": lambda: {"validate_run_id": run_ids["validate"], "test_size": config.test_size,
                          "random_state": config.random_state},
        "evaluate": lambda: {"train_run_id": run_ids["train"]},
        "register": lambda: {"evaluate_run_id": run_ids["evaluate"], "force": str(force).lower()},
    }[step]()


def local_data_file(data_path):
    """The local file ``data_path`` names, or None for a URI; a missing local file is an error."""
    from steps.ingest import URI_SCHEMES, fetch

    if data_path.lower().startswith(URI_SCHEMES):
        return None
    path, _ = fetch(data_path)
    if not path.is_file():
        raise PipelineError(f"{path}: {'is a directory' if path.is_dir() else 'no such file'}; "
                            "data_path must name a CSV or Parquet file.")
    return path


def env_manager_in_use():
    """The env manager ``mlflow run`` was given for this pipeline: local, uv, virtualenv or conda.

    MLflow tags the run it starts with ``mlflow.project.env`` for every manager but local.
    """
    import mlflow

    run_id = os.environ.get("MLFLOW_RUN_ID")
    if not run_id:
        return "local"
    tag = mlflow.tracking.MlflowClient().get_run(run_id).data.tags.get("mlflow.project.env")
    return tag if tag in {"uv", "virtualenv", "conda"} else "local"


class Pipeline:
    """Runs or reuses each step as a child of the driver's run and keeps the summary."""

    def __init__(self, config, parent, env_manager, use_cache, force, data_file):
        import mlflow

        self.config, self.parent, self.env_manager = config, parent, env_manager
        self.use_cache, self.force, self.data_file = use_cache, force, data_file
        self.client = mlflow.tracking.MlflowClient()
        self.run_ids, self.rows, self.failure = {}, [], None
        self.stopping = False  # set on Ctrl-C or SIGTERM: no further step starts
        self.lock = threading.Lock()
        self.report = BusinessReport(config, self.client, parent.info.experiment_id)

    def say(self, step, text):
        # one write per line: the eda branch prints from another thread
        print(f"[{STEPS.index(step) + 1}/{len(STEPS)}] {step} {text}\n", end="", flush=True)

    def run(self, step):
        """Run (or reuse) ``step``; raises StepFailed when it, or another branch, failed."""
        with self.lock:
            if self.failure or self.stopping:
                raise StepFailed(step)
            parameters = step_parameters(step, self.config, self.run_ids, self.force)
        cacheable = step != "ingest" or self.data_file is not None
        key = cache_key(step, parameters, self.config, self.env_manager,
                        self.data_file if step == "ingest" else None)
        reused = (reusable_run(self.client, self.parent.info.experiment_id, step, key)
                  if self.use_cache and cacheable else None)
        began = time.monotonic()
        if reused:
            run_id, status, error = reused.info.run_id, "REUSED", None
            self.say(step, f"reused (run {run_id})")
        else:
            self.say(step, "...")
            run_id, status, error = self.launch(step, parameters, key)
            self.say(step, f"{status.lower()} in {time.monotonic() - began:.1f} s (run {run_id})")
        with self.lock:
            self.rows.append({"step": step, "run_id": run_id, "status": status,
                              "seconds": 0.0 if reused else time.monotonic() - began})
            if status in {"FINISHED", "REUSED"}:
                self.run_ids[step] = run_id
                return run_id
            self.failure = self.failure or (step, run_id, error)
        raise StepFailed(step)

    def launch(self, step, parameters, key):
        """Run one step as a child run; returns ``(run_id, status, error)``."""
        import mlflow
        from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

        child = self.client.create_run(
            self.parent.info.experiment_id, run_name=step,
            tags={MLFLOW_PARENT_RUN_ID: self.parent.info.run_id, STEP_TAG: step, KEY_TAG: key,
                  "mlflow.source.type": "PROJECT", "mlflow.project.entryPoint": step},
        )
        run_id = child.info.run_id
        try:
            mlflow.run(str(PROJECT_DIR), entry_point=step,
                       parameters={name: str(value) for name, value in parameters.items()},
                       experiment_id=self.parent.info.experiment_id, run_id=run_id,
                       env_manager=self.env_manager, synchronous=True)
        except KeyboardInterrupt:
            self._terminate_if_running(run_id, "KILLED")
            raise
        except Exception as error:  # noqa: BLE001 - the step's own message is on its run
            if tracking_server_problem():
                raise  # nothing more can be recorded: the driver reports it
            self._terminate_if_running(run_id, "FAILED")
            run = self.client.get_run(run_id)
            message = run.data.tags.get(ERROR_TAG) or str(error)
            # mlflow.run marks FAILED even a step that marked itself KILLED
            return run_id, "KILLED" if message.startswith("interrupted") else run.info.status, message
        return run_id, self.client.get_run(run_id).info.status, None

    def _terminate_if_running(self, run_id, status):
        if self.client.get_run(run_id).info.status in {"RUNNING", "SCHEDULED"}:
            self.client.set_terminated(run_id, status)

    def run_all(self):
        """ingest, validate, then eda beside train -> evaluate, then register."""
        eda = None
        try:
            self.run("ingest")
            self.run("validate")
            with ThreadPoolExecutor(max_workers=1) as pool:
                eda = pool.submit(self.run, "eda")
                try:
                    self.run("train")
                    self.run("evaluate")
                finally:
                    eda.exception()  # wait for the eda branch whatever happened here
                eda.result()
            reused = [row["step"] for row in self.rows if row["status"] == "REUSED"]
            self.report.start(self.run_ids, reused)  # drawn while register runs
            self.run("register")
        except StepFailed:
            pass
        except KeyboardInterrupt:
            self.stopping = True
            if eda is not None:
                eda.exception()  # its step got the SIGTERM too: wait until it has marked its run
            raise
        order = {step: number for number, step in enumerate(STEPS)}
        self.rows.sort(key=lambda row: order[row["step"]])


def format_summary(rows):
    """The summary table as text: one line per step."""
    lines = [f"{'step':<10} {'run ID':<34} {'status':<9} {'seconds':>8}"]
    lines += [f"{row['step']:<10} {row['run_id']:<34} {row['status']:<9} {row['seconds']:>8.1f}"
              for row in rows]
    return "\n".join(lines)


def run_pipeline(config, force, use_cache, data_file):
    """Run the pipeline as the driver's run; whatever happens, no run of it is left RUNNING."""
    pipeline = None
    try:
        with access_errors(config):
            env_manager = env_manager_in_use()
            parent = start_step_run("main", config)
            pipeline = Pipeline(config, parent, env_manager, use_cache, force, data_file)
            drive(pipeline)
    except Interrupted as interrupted:
        stop(pipeline, interrupted)
    except PipelineError as error:  # the tracking server refused the user
        with contextlib.suppress(Exception):  # it may refuse this too
            end_unfinished(pipeline, "FAILED", str(error))
        print(f"\npipeline failed: {error}\n", file=sys.stderr)
        raise SystemExit(1)
    except Exception as error:  # noqa: BLE001 - a bug, or a store that stopped answering
        fail(pipeline, error)


def drive(pipeline):
    """Run every step, log the summary and the report; a failed step fails the driver."""
    import mlflow

    config, parent, started = pipeline.config, pipeline.parent, time.monotonic()
    params = {"data_path": config.data_path, "test_size": config.test_size,
              "random_state": config.random_state, "force": str(pipeline.force).lower(),
              "use_cache": str(pipeline.use_cache).lower(), "env_manager": pipeline.env_manager}
    log_params(params)
    print(f"pipeline: run {parent.info.run_id} in experiment '{config.experiment_name}', "
          f"env manager {pipeline.env_manager}, cache {'on' if pipeline.use_cache else 'off'}",
          flush=True)
    pipeline.run_all()
    mlflow.log_metric("pipeline_seconds", time.monotonic() - started)
    log_json(pipeline.rows, "pipeline/summary.json")
    mlflow.set_tags({f"tv_sales.reused.{row['step']}": row["run_id"]
                     for row in pipeline.rows if row["status"] == "REUSED"})
    print("\n" + format_summary(pipeline.rows))
    if pipeline.failure:
        step, run_id, error = pipeline.failure
        log_index_card(parent.info.run_id, "FAILED", pipeline.rows, params, seconds=time.monotonic() - started)
        mlflow.set_tag(ERROR_TAG, f"step '{step}' failed (run {run_id}): {error}"[:5000])
        mlflow.end_run("FAILED")
        print(f"\npipeline failed at step '{step}' (run {run_id}); the step's message is above "
              "and in the tag tv_sales.error of both runs.", file=sys.stderr)
        raise SystemExit(1)
    tags = mlflow.get_run(pipeline.run_ids["register"]).data.tags
    name, version = tags["tv_sales.model_name"], tags["tv_sales.model_version"]
    mlflow.set_tags({"tv_sales.model_name": name, "tv_sales.model_version": version})
    pipeline.report.log(f"{name} version {version}")
    aliases = mlflow.tracking.MlflowClient().get_model_version(name, version).aliases
    log_index_card(parent.info.run_id, "FINISHED", pipeline.rows, params,
                   f"{name} version {version} ({', '.join(sorted(aliases)) or 'no alias'})",
                   time.monotonic() - started)
    mlflow.end_run()
    print(f"\nregistered model: {name} version {version}, aliases: {', '.join(sorted(aliases)) or 'none'}")
    print(f"pipeline finished in {time.monotonic() - started:.1f} s")
    skip_final_collection()


def end_unfinished(pipeline, status, message):
    """End every run of this pipeline still RUNNING with ``status``, tagged with ``message``.

    Its steps' runs, the launcher's and its own (last). After an interrupt, a step run marked
    FAILED with no message, or with "interrupted", was killed too: ``mlflow.run`` marks
    FAILED every step that exits non-zero, even one that marked itself KILLED.
    """
    import mlflow
    from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

    client = mlflow.tracking.MlflowClient()
    runs = [client.get_run(GIVEN_RUN_ID)] if GIVEN_RUN_ID else []
    if pipeline is not None:
        parent = pipeline.parent.info
        runs += client.search_runs([parent.experiment_id],
                                   f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{parent.run_id}'")
    mine = mlflow.active_run().info.run_id if mlflow.active_run() else None
    for run in runs:
        unfinished = run.info.status in {"RUNNING", "SCHEDULED"}
        if status == "KILLED" and run.info.status == "FAILED":
            unfinished = run.data.tags.get(ERROR_TAG, "interrupted").startswith("interrupted")
        if unfinished and run.info.run_id != mine:
            client.set_tag(run.info.run_id, ERROR_TAG, message[:5000])
            client.set_terminated(run.info.run_id, status)
    if mine:
        mlflow.set_tag(ERROR_TAG, message[:5000])
        mlflow.end_run(status)


def stop(pipeline, interrupted):
    """After Ctrl-C or SIGTERM: every run of this pipeline still RUNNING ends KILLED."""
    server_problem = tracking_server_problem()
    if server_problem:
        print(f"\npipeline interrupted by {interrupted}; {server_problem}: "
              f"{end_run_without_waiting('KILLED')}.", file=sys.stderr, flush=True)
        raise SystemExit(128 + interrupted.signum)
    registered = pipeline and pipeline.run_ids.get("register")
    end_unfinished(pipeline, "KILLED", f"interrupted by {interrupted}")
    print(f"\npipeline interrupted by {interrupted}: its unfinished runs are marked KILLED; "
          + ("the register step had already finished (see its run)." if registered
             else "nothing was registered.")
          + " Run the same command again to go on: finished steps are reused.",
          file=sys.stderr, flush=True)
    raise SystemExit(128 + interrupted.signum)


def fail(pipeline, error):
    """An exception in the driver itself: its runs end FAILED, with the message and traceback."""
    import traceback

    server_problem = tracking_server_problem()
    if server_problem:
        print(f"\npipeline failed: {server_problem}; {end_run_without_waiting('FAILED')}.",
              file=sys.stderr, flush=True)
        raise SystemExit(1)
    traceback.print_exc()
    message = f"unexpected {type(error).__name__} in the driver: {error}"
    end_unfinished(pipeline, "FAILED", message)
    print(f"\npipeline failed: {message} (traceback above)", file=sys.stderr, flush=True)
    raise SystemExit(1)


def lead_process_group():
    """Make the driver the leader of a process group, inherited by every step it starts.

    Returns True when it leads its group: one SIGTERM to the group then reaches every step,
    whichever thread launched it.
    """
    if not hasattr(os, "setpgid"):
        return False
    with contextlib.suppress(OSError):  # a session leader cannot move, but leads its group already
        os.setpgid(0, 0)
    return os.getpgrp() == os.getpid()


def stop_steps(signum):
    """The driver's first Ctrl-C or SIGTERM: pass SIGTERM on to every step (the driver's group)."""
    os.killpg(os.getpgrp(), signal.SIGTERM)  # the driver's own handler ignores this second signal


def stop_when_orphaned(interval=0.5):
    """SIGTERM the driver itself when the process that started it disappears.

    ``mlflow run`` dies at once on SIGTERM (or SIGHUP, when its terminal closes) without
    passing it on; the driver, its child, then notices that its parent changed.
    """
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(interval)
        print(f"\npipeline: the process that started it (pid {parent}) is gone; stopping.",
              file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv=None):
    stop_on_signals(on_first=stop_steps if lead_process_group() else None)
    stop_when_orphaned()
    bound_http_retries()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-path", default="")
    parser.add_argument("--test-size", default="")
    parser.add_argument("--random-state", default="")
    parser.add_argument("--force", default="false")
    parser.add_argument("--use-cache", default="true")
    args = parser.parse_args(argv)
    try:
        server_problem = tracking_server_problem()
        if server_problem:
            raise PipelineError(f"{server_problem}. Start it, or set MLFLOW_TRACKING_URI to a "
                                "tracking server that runs.")
        config = load_config(data_path=args.data_path, test_size=args.test_size,
                             random_state=args.random_state)
        force = parse_bool(args.force, "parameter 'force'")
        use_cache = parse_bool(args.use_cache, "parameter 'use_cache'")
        data_file = local_data_file(config.data_path)
    except PipelineError as error:
        print(f"\npipeline not started: {error}\n", file=sys.stderr)
        raise SystemExit(1)
    except Interrupted as interrupted:
        stop(None, interrupted)
    run_pipeline(config, force, use_cache, data_file)


if __name__ == "__main__":
    main()
