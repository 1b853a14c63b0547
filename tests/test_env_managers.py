"""The whole pipeline under `--env-manager uv`: every step in the isolated environment MLflow builds."""

import sys

import pytest

from conftest import EXPERIMENT, MODEL_NAME, explain

pytestmark = pytest.mark.slow


def test_pipeline_under_uv(workspace, monkeypatch):
    result = workspace.mlflow_run("-P", "test_size=0.33", env_manager="uv", timeout=1800)
    assert result.returncode == 0, explain(result)
    client = workspace.client()
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id])
    (main,) = [run for run in runs if run.data.tags.get("tv_sales.step") == "main"]
    assert main.data.params["env_manager"] == "uv"
    children = [run for run in runs if run.data.tags.get("mlflow.parentRunId") == main.info.run_id]
    assert len(children) == 6
    for run in children:
        step = run.data.tags["tv_sales.step"]
        assert run.info.status == "FINISHED", step
        assert run.data.tags["mlflow.project.env"] == "uv", step
        prefix = run.data.tags["tv_sales.python_env"]
        assert "/.mlflow/envs/" in prefix and prefix != sys.prefix, step
    version = client.get_model_version_by_alias(MODEL_NAME, "champion")
    assert str(version.version) == "1"

    import mlflow
    import pandas as pd

    monkeypatch.setenv("MLFLOW_TRACKING_URI", workspace.tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion")
    train = next(run for run in children if run.data.tags["tv_sales.step"] == "train")
    expected = train.data.metrics["intercept"] + 100 * train.data.metrics["slope"]
    assert model.predict(pd.DataFrame({"TV": [100.0]}))["prediction"][0] == pytest.approx(expected)
