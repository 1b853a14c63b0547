"""The driver: ingest -> validate -> eda -> train -> evaluate -> register, one MLflow run per step.

Each step runs with ``mlflow.run`` under the env manager this pipeline was started with,
as a child of the driver's run, and receives the run ID of the step before it.
"""

import argparse
import os
import sys
import time

from steps.business_report import log_business_report
from steps.common import ERROR_TAG, STEP_TAG, log_json, log_params, start_step_run
from tvsales.config import PROJECT_DIR, load_config, parse_bool
from tvsales.errors import PipelineError

STEPS = ("ingest", "validate", "eda", "train", "evaluate", "register")


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


def check_local_data(data_path):
    """Refuse a local data file that is not there before any step runs (URIs are left to ingest)."""
    from steps.ingest import URI_SCHEMES, fetch

    if data_path.lower().startswith(URI_SCHEMES):
        return
    path, _ = fetch(data_path)
    if not path.is_file():
        raise PipelineError(f"{path}: {'is a directory' if path.is_dir() else 'no such file'}; "
                            "data_path must name a CSV or Parquet file.")


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


def run_child(step, parameters, parent, env_manager):
    """Run one step as a child run of ``parent``; returns ``(run_id, status, error)``."""
    import mlflow
    from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

    client = mlflow.tracking.MlflowClient()
    child = client.create_run(
        parent.info.experiment_id, run_name=step,
        tags={MLFLOW_PARENT_RUN_ID: parent.info.run_id, STEP_TAG: step,
              "mlflow.source.type": "PROJECT", "mlflow.project.entryPoint": step},
    )
    run_id = child.info.run_id
    try:
        mlflow.run(str(PROJECT_DIR), entry_point=step,
                   parameters={key: str(value) for key, value in parameters.items()},
                   experiment_id=parent.info.experiment_id, run_id=run_id,
                   env_manager=env_manager, synchronous=True)
    except KeyboardInterrupt:
        _terminate_if_running(client, run_id, "KILLED")
        raise
    except Exception as error:  # noqa: BLE001 - the step's own message is on its run
        _terminate_if_running(client, run_id, "FAILED")
        message = client.get_run(run_id).data.tags.get(ERROR_TAG) or str(error)
        return run_id, "FAILED", message
    return run_id, client.get_run(run_id).info.status, None


def _terminate_if_running(client, run_id, status):
    if client.get_run(run_id).info.status in {"RUNNING", "SCHEDULED"}:
        client.set_terminated(run_id, status)


def format_summary(rows):
    """The summary table as text: one line per step."""
    lines = [f"{'step':<10} {'run ID':<34} {'status':<9} {'seconds':>8}"]
    lines += [f"{row['step']:<10} {row['run_id']:<34} {row['status']:<9} {row['seconds']:>8.1f}"
              for row in rows]
    return "\n".join(lines)


def run_pipeline(config, force):
    import mlflow

    env_manager = env_manager_in_use()
    parent = start_step_run("main", config)
    log_params({"data_path": config.data_path, "test_size": config.test_size,
                "random_state": config.random_state, "force": str(force).lower(),
                "env_manager": env_manager})
    print(f"pipeline: run {parent.info.run_id} in experiment '{config.experiment_name}', "
          f"env manager {env_manager}", flush=True)
    rows, run_ids, failure = [], {}, None
    started = time.monotonic()
    try:
        for number, step in enumerate(STEPS, start=1):
            print(f"[{number}/{len(STEPS)}] {step} ...", flush=True)
            began = time.monotonic()
            run_id, status, error = run_child(
                step, step_parameters(step, config, run_ids, force), parent, env_manager)
            seconds = time.monotonic() - began
            rows.append({"step": step, "run_id": run_id, "status": status, "seconds": seconds})
            print(f"[{number}/{len(STEPS)}] {step} {status.lower()} in {seconds:.1f} s "
                  f"(run {run_id})", flush=True)
            if status != "FINISHED":
                failure = (step, run_id, error)
                break
            run_ids[step] = run_id
    except KeyboardInterrupt:
        mlflow.set_tag(ERROR_TAG, "interrupted")
        mlflow.end_run("KILLED")
        print("\npipeline: interrupted; no further step was started.", file=sys.stderr)
        raise SystemExit(130)

    mlflow.log_metric("pipeline_seconds", time.monotonic() - started)
    log_json(rows, "pipeline/summary.json")
    print("\n" + format_summary(rows))
    if failure:
        step, run_id, error = failure
        mlflow.set_tag(ERROR_TAG, f"step '{step}' failed (run {run_id}): {error}"[:5000])
        mlflow.end_run("FAILED")
        print(f"\npipeline failed at step '{step}' (run {run_id}); the step's message is above "
              "and in the tag tv_sales.error of both runs.", file=sys.stderr)
        raise SystemExit(1)
    register_run = mlflow.get_run(run_ids["register"])
    tags = register_run.data.tags
    mlflow.set_tags({"tv_sales.model_name": tags["tv_sales.model_name"],
                     "tv_sales.model_version": tags["tv_sales.model_version"]})
    log_business_report(config, run_ids, tags["tv_sales.model_name"], tags["tv_sales.model_version"])
    mlflow.end_run()
    aliases = mlflow.tracking.MlflowClient().get_model_version(
        tags["tv_sales.model_name"], tags["tv_sales.model_version"]).aliases
    print(f"\nregistered model: {tags['tv_sales.model_name']} version "
          f"{tags['tv_sales.model_version']}, aliases: {', '.join(sorted(aliases)) or 'none'}")
    print(f"pipeline finished in {time.monotonic() - started:.1f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-path", default="")
    parser.add_argument("--test-size", default="")
    parser.add_argument("--random-state", default="")
    parser.add_argument("--force", default="false")
    args = parser.parse_args(argv)
    try:
        config = load_config(data_path=args.data_path, test_size=args.test_size,
                             random_state=args.random_state)
        force = parse_bool(args.force, "parameter 'force'")
        check_local_data(config.data_path)
    except PipelineError as error:
        print(f"\npipeline not started: {error}\n", file=sys.stderr)
        raise SystemExit(1)
    run_pipeline(config, force)


if __name__ == "__main__":
    main()
