"""Two pipelines at the same moment on one embedded SQLite store; the register lock; undoing a registration."""

import time

import pytest

from conftest import EXPERIMENT, MODEL_NAME
from processes import start_mlflow_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_pipelines(workspace):
    client = workspace.client()
    # Create the store first: MLflow's own creation of a new SQLite store (in `mlflow run`,
    # before any code of the project runs) is not safe against a second process doing the
    # same; see README, "Two pipelines at once".
    client.search_experiments()
    pipelines = [start_mlflow_run(workspace) for _ in range(2)]
    try:
        codes = [pipeline.wait(timeout=900) for pipeline in pipelines]
    finally:
        for pipeline in pipelines:
            pipeline.stop()
    return {"codes": codes, "outputs": [pipeline.output for pipeline in pipelines], "client": client}


def test_both_pipelines_finish(two_pipelines):
    for code, output in zip(two_pipelines["codes"], two_pipelines["outputs"]):
        assert code == 0, output[-6000:]


def test_every_run_of_both_pipelines_finished(two_pipelines):
    client = two_pipelines["client"]
    runs = [run for experiment in client.search_experiments()
            for run in client.search_runs([experiment.experiment_id])]
    assert {run.info.status for run in runs} == {"FINISHED"}
    mains = [run for run in runs if run.data.tags.get("tv_sales.step") == "main"]
    assert len(mains) == 2
    for main in mains:  # fresh pipelines: nothing to reuse, each ran its six steps
        children = [run for run in runs if run.data.tags.get("mlflow.parentRunId") == main.info.run_id]
        assert sorted(run.data.tags["tv_sales.step"] for run in children) == sorted(
            ["ingest", "validate", "eda", "train", "evaluate", "register"])


def test_the_registry_has_consecutive_versions_and_one_champion(two_pipelines):
    client = two_pipelines["client"]
    versions = client.search_model_versions(f"name = '{MODEL_NAME}'")
    assert sorted(int(version.version) for version in versions) == [1, 2]
    aliases = client.get_registered_model(MODEL_NAME).aliases
    assert {aliases["champion"], aliases["challenger"]} == {1, 2}  # one each
    decisions = sorted(version.tags["promotion.decision"] for version in versions)
    assert decisions == ["challenger", "champion"]  # the second register saw the first's champion
    registered = sorted(f"{line.split('version ')[1].split(',')[0]}" for output in two_pipelines["outputs"]
                        for line in output.splitlines() if line.startswith("registered model: "))
    assert registered == ["1", "2"]


def test_register_waits_for_the_registry_lock(workspace, two_pipelines, monkeypatch):
    """While another process holds the model's lock, a register step waits, then goes on."""
    from steps.registry import registry_lock

    client = two_pipelines["client"]
    experiment = client.get_experiment_by_name(EXPERIMENT)
    evaluate = client.search_runs([experiment.experiment_id], "tags.`tv_sales.step` = 'evaluate'")[0]
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", workspace.tracking_uri)
    with registry_lock(MODEL_NAME):
        register = start_mlflow_run(workspace, "-e", "register", "-P",
                                    f"evaluate_run_id={evaluate.info.run_id}")
        try:
            register.wait_for_line("waiting for another pipeline to finish changing model", timeout=300)
            time.sleep(1)
            assert register.process.poll() is None  # still waiting
        except BaseException:
            register.stop()
            raise
    try:
        assert register.wait(timeout=300) == 0, register.output[-6000:]
    finally:
        register.stop()
    assert "is already version" in register.output  # the same train run: no new version
    assert len(client.search_model_versions(f"name = '{MODEL_NAME}'")) == 2


def test_restore_puts_aliases_back_and_deletes_the_versions_of_a_register_run(workspace, two_pipelines):
    from steps.registry import aliases_of, restore

    client = two_pipelines["client"]
    before = aliases_of(client, MODEL_NAME)
    champion = client.get_model_version_by_alias(MODEL_NAME, "champion")
    # what an interrupted register run could have done: a new version, aliases moved to it
    source = client.get_run(champion.run_id).info.artifact_uri + "/split"
    created = client.create_model_version(MODEL_NAME, source, champion.run_id,
                                          tags={"register_run_id": "interrupted-run"})
    for alias in ("champion", "challenger", "previous-champion"):
        client.set_registered_model_alias(MODEL_NAME, alias, created.version)

    restore(client, MODEL_NAME, before, "interrupted-run")

    assert aliases_of(client, MODEL_NAME) == before
    assert before["previous-champion"] is None  # and it was removed again
    assert sorted(int(v.version) for v in client.search_model_versions(f"name = '{MODEL_NAME}'")) == [1, 2]
