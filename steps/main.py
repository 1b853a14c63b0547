"""The driver: ingest -> validate -> (eda | train -> evaluate) -> register, one MLflow run per step.

Each step runs with ``mlflow.run`` under the env manager this pipeline was started with,
as a child of the driver's run, and receives the run ID of the step before it. A step
whose cache key matches a FINISHED run is not run again: that run is reused. ``eda``
needs only the validated data, so it runs beside ``train`` -> ``evaluate``.
"""

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from steps.business_report import log_business_report
from steps.access import access_errors
from steps.cache import KEY_TAG, cache_key, reusable_run
from steps.cards import log_index_card
from steps.common import ERROR_TAG, STEP_TAG, log_json, log_params, start_step_run
from tvsales.config import PROJECT_DIR, load_config, parse_bool
from tvsales.errors import PipelineError

STEPS = ("ingest", "validate", "eda", "train", "evaluate", "register")


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
        self.lock = threading.Lock()

    def say(self, step, text):
        print(f"[{STEPS.index(step) + 1}/{len(STEPS)}] {step} {text}", flush=True)

    def run(self, step):
        """Run (or reuse) ``step``; raises StepFailed when it, or another branch, failed."""
        with self.lock:
            if self.failure:
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
            self._terminate_if_running(run_id, "FAILED")
            return run_id, "FAILED", self.client.get_run(run_id).data.tags.get(ERROR_TAG) or str(error)
        return run_id, self.client.get_run(run_id).info.status, None

    def _terminate_if_running(self, run_id, status):
        if self.client.get_run(run_id).info.status in {"RUNNING", "SCHEDULED"}:
            self.client.set_terminated(run_id, status)

    def run_all(self):
        """ingest, validate, then eda beside train -> evaluate, then register."""
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
            self.run("register")
        except StepFailed:
            pass
        order = {step: number for number, step in enumerate(STEPS)}
        self.rows.sort(key=lambda row: order[row["step"]])


def format_summary(rows):
    """The summary table as text: one line per step."""
    lines = [f"{'step':<10} {'run ID':<34} {'status':<9} {'seconds':>8}"]
    lines += [f"{row['step']:<10} {row['run_id']:<34} {row['status']:<9} {row['seconds']:>8.1f}"
              for row in rows]
    return "\n".join(lines)


def run_pipeline(config, force, use_cache, data_file):
    import mlflow

    env_manager = env_manager_in_use()
    parent = start_step_run("main", config)
    params = {"data_path": config.data_path, "test_size": config.test_size,
              "random_state": config.random_state, "force": str(force).lower(),
              "use_cache": str(use_cache).lower(), "env_manager": env_manager}
    log_params(params)
    print(f"pipeline: run {parent.info.run_id} in experiment '{config.experiment_name}', "
          f"env manager {env_manager}, cache {'on' if use_cache else 'off'}", flush=True)
    started = time.monotonic()
    pipeline = Pipeline(config, parent, env_manager, use_cache, force, data_file)
    try:
        pipeline.run_all()
    except KeyboardInterrupt:
        mlflow.set_tag(ERROR_TAG, "interrupted")
        mlflow.end_run("KILLED")
        print("\npipeline: interrupted; no further step was started.", file=sys.stderr)
        raise SystemExit(130)

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
    log_business_report(config, pipeline.run_ids, name, version)
    aliases = mlflow.tracking.MlflowClient().get_model_version(name, version).aliases
    log_index_card(parent.info.run_id, "FINISHED", pipeline.rows, params,
                   f"{name} version {version} ({', '.join(sorted(aliases)) or 'no alias'})",
                   time.monotonic() - started)
    mlflow.end_run()
    print(f"\nregistered model: {name} version {version}, aliases: {', '.join(sorted(aliases)) or 'none'}")
    print(f"pipeline finished in {time.monotonic() - started:.1f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-path", default="")
    parser.add_argument("--test-size", default="")
    parser.add_argument("--random-state", default="")
    parser.add_argument("--force", default="false")
    parser.add_argument("--use-cache", default="true")
    args = parser.parse_args(argv)
    try:
        config = load_config(data_path=args.data_path, test_size=args.test_size,
                             random_state=args.random_state)
        force = parse_bool(args.force, "parameter 'force'")
        use_cache = parse_bool(args.use_cache, "parameter 'use_cache'")
        data_file = local_data_file(config.data_path)
    except PipelineError as error:
        print(f"\npipeline not started: {error}\n", file=sys.stderr)
        raise SystemExit(1)
    try:
        with access_errors(config):
            run_pipeline(config, force, use_cache, data_file)
    except PipelineError as error:  # the tracking server refused the user
        print(f"\npipeline failed: {error}\n", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
