"""Interrupted and failing pipelines: real `mlflow run` processes, real signals, a real SQLite store.

One workspace tells a story: a pipeline stopped by Ctrl-C (SIGINT to its process group, as a
terminal sends it) on a fresh store; a plain rerun; then two pipelines with a new
random_state stopped by SIGTERM, one sent to `mlflow run` (which dies without passing it on),
one to the driver; then a pipeline whose train step meets a damaged artifact.
"""

import os
import signal
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from conftest import EXPERIMENT, MODEL_NAME
from processes import child_pids, start_mlflow_run, wait_until

pytestmark = pytest.mark.slow

WAYS = ("ctrl-c", "sigterm-to-mlflow-run", "sigterm-to-driver")
NEW_SEED = "7"


def all_runs(client):
    return [run for experiment in client.search_experiments()
            for run in client.search_runs([experiment.experiment_id])]


def registry(client):
    """What a pipeline may change in the registry: its versions and who holds each alias."""
    models = client.search_registered_models(f"name = '{MODEL_NAME}'")
    if not models:
        return None
    versions = sorted(int(v.version) for v in client.search_model_versions(f"name = '{MODEL_NAME}'"))
    return {"versions": versions, "aliases": dict(client.get_registered_model(MODEL_NAME).aliases)}


def running_step(client, step, known):
    """The run of ``step`` that is running its own code now (not one of ``known``), or None."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        return None
    for run in client.search_runs([experiment.experiment_id], f"tags.`tv_sales.step` = '{step}'"):
        # tv_sales.python_env is set by the step process itself once its run is started
        if (run.info.run_id not in known and run.info.status == "RUNNING"
                and "tv_sales.python_env" in run.data.tags):
            return run
    return None


def interrupt(workspace, way, *args):
    """Start a pipeline, interrupt it ``way`` while its train step runs; what became of it."""
    client = workspace.client()
    before, known = registry(client), {run.info.run_id for run in all_runs(client)}
    pipeline = start_mlflow_run(workspace, *args)
    try:
        wait_until(lambda: running_step(client, "train", known) or pipeline.process.poll() is not None,
                   300, "a running train step", lambda: pipeline.output[-6000:])
        train = running_step(client, "train", known)
        assert train is not None, pipeline.output[-6000:]
        if way == "ctrl-c":
            os.killpg(pipeline.process.pid, signal.SIGINT)
        elif way == "sigterm-to-mlflow-run":
            os.kill(pipeline.process.pid, signal.SIGTERM)
        else:
            (driver,) = child_pids(pipeline.process.pid)
            os.kill(driver, signal.SIGTERM)
        returncode = pipeline.wait(timeout=120)  # also waits for the driver and steps to close the output
    finally:
        pipeline.stop()
    runs = [run for run in all_runs(client) if run.info.run_id not in known]
    return {"returncode": returncode, "output": pipeline.output, "train": train.info.run_id,
            "runs": {run.info.run_id: run for run in runs}, "before": before, "after": registry(client)}


@pytest.fixture(scope="module")
def story(workspace):
    client = workspace.client()
    stories = {"ctrl-c": interrupt(workspace, "ctrl-c")}
    rerun = workspace.mlflow_run()
    known = set().union(*(s["runs"] for s in stories.values()))
    stories["rerun"] = {"result": rerun, "runs": {run.info.run_id: run for run in all_runs(client)
                                                  if run.info.run_id not in known}}
    for way in WAYS[1:]:
        stories[way] = interrupt(workspace, way, "-P", f"random_state={NEW_SEED}")
    return stories


def main_run(runs):
    (main,) = [run for run in runs.values() if run.data.tags.get("tv_sales.step") == "main"]
    return main


@pytest.mark.parametrize("way", WAYS)
def test_an_interrupted_pipeline_leaves_no_run_running(story, way):
    runs = story[way]["runs"]
    explain = story[way]["output"][-6000:]
    assert not [run.info.run_name for run in runs.values() if run.info.status == "RUNNING"], explain
    main = main_run(runs)
    train = runs[story[way]["train"]]
    for run in (main, train):  # the driver and the step that was running
        assert run.info.status == "KILLED", (run.info.run_name, explain)
        assert run.data.tags["tv_sales.error"] == "interrupted by SIGTERM", run.info.run_name
    for run in runs.values():  # steps that had finished stay FINISHED; the launcher ends too
        assert run.info.status in {"FINISHED", "KILLED", "FAILED"}, run.info.run_name


@pytest.mark.parametrize("way", WAYS)
def test_an_interrupted_pipeline_registers_nothing_and_says_so(story, way):
    assert story[way]["after"] == story[way]["before"]
    assert story[way]["returncode"] != 0
    assert "pipeline interrupted by SIGTERM: its unfinished runs are marked KILLED; nothing was " \
           "registered." in story[way]["output"]


def test_the_registry_was_not_empty_when_sigterm_came(story):
    # the SIGTERM cases ran after a finished pipeline: "unchanged" covers a champion and its aliases
    assert story["sigterm-to-driver"]["before"] == {
        "versions": [1], "aliases": {"champion": 1, "challenger": 1}}


def test_a_rerun_after_ctrl_c_finishes_and_reuses_only_finished_runs(story, workspace):
    result = story["rerun"]["result"]
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "registered model: tv-sales-regressor version 1" in result.stdout
    main = main_run(story["rerun"]["runs"])
    assert main.info.status == "FINISHED"
    killed = set(story["ctrl-c"]["runs"])
    reused = {key: value for key, value in main.data.tags.items() if key.startswith("tv_sales.reused.")}
    client = workspace.client()
    for run_id in reused.values():
        assert client.get_run(run_id).info.status == "FINISHED"
    assert story["ctrl-c"]["train"] not in reused.values()
    children = [run for run in story["rerun"]["runs"].values()
                if run.data.tags.get("mlflow.parentRunId") == main.info.run_id]
    assert {run.data.tags["tv_sales.step"] for run in children} | {
        key.rsplit(".", 1)[1] for key in reused} == {"ingest", "validate", "eda", "train", "evaluate", "register"}
    for run in children:
        assert run.info.status == "FINISHED" and run.info.run_id not in killed


def artifact_file(run, path):
    return Path(unquote(urlparse(run.info.artifact_uri).path)) / path


def test_a_step_that_raises_fails_its_run_and_the_pipeline(story, workspace):
    """A damaged artifact makes train raise (pyarrow's error, not a PipelineError)."""
    client = workspace.client()
    experiment = client.get_experiment_by_name(EXPERIMENT)
    (validate, *_) = client.search_runs(
        [experiment.experiment_id], "tags.`tv_sales.step` = 'validate' and attributes.status = 'FINISHED'")
    artifact_file(validate, "data/validated.parquet").write_bytes(b"not a parquet file\n")
    before = registry(client)
    known = {run.info.run_id for run in all_runs(client)}

    result = workspace.mlflow_run("-P", f"random_state={NEW_SEED}")  # train runs again, reads it

    assert result.returncode != 0
    runs = {run.info.run_id: run for run in all_runs(client) if run.info.run_id not in known}
    assert not [run.info.run_name for run in runs.values() if run.info.status == "RUNNING"]
    (train,) = [run for run in runs.values() if run.data.tags.get("tv_sales.step") == "train"]
    assert train.info.status == "FAILED"
    assert train.data.tags["tv_sales.error"].startswith("unexpected ArrowInvalid: ")
    assert "Parquet magic bytes not found" in train.data.tags["tv_sales.error"]
    import mlflow

    traceback = mlflow.artifacts.download_artifacts(run_id=train.info.run_id, artifact_path="error/traceback.txt",
                                                    tracking_uri=workspace.tracking_uri)
    assert "Traceback (most recent call last)" in Path(traceback).read_text()
    main = main_run(runs)
    assert main.info.status == "FAILED"
    assert main.data.tags["tv_sales.error"].startswith(f"step 'train' failed (run {train.info.run_id}): "
                                                       "unexpected ArrowInvalid: ")
    assert result.stderr.count("train failed: unexpected ArrowInvalid: ") == 1
    assert f"pipeline failed at step 'train' (run {train.info.run_id}); the step's message is above" in result.stderr
    assert registry(client) == before
