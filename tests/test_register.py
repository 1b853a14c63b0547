"""Registration rules against a real registry: refusal, force, no duplicate versions."""

import numpy as np
import pandas as pd
import pytest

from conftest import EXPERIMENT, MODEL_NAME, explain

pytestmark = pytest.mark.slow


def step_runs(client, step):
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return client.search_runs([experiment.experiment_id], f"tags.`tv_sales.step` = '{step}'",
                              order_by=["attributes.start_time DESC"])


@pytest.fixture(scope="module")
def noise_pipeline(workspace):
    """A pipeline on data where sales do not follow TV spend: evaluation must fail."""
    rng = np.random.default_rng(0)
    path = workspace.root / "noise.csv"
    pd.DataFrame({"TV": rng.uniform(0, 300, 120), "Sales": rng.uniform(1, 27, 120)}).to_csv(path, index=False)
    return workspace.mlflow_run("-P", f"data_path={path}")


def test_a_model_that_fails_evaluation_is_not_registered(workspace, noise_pipeline):
    assert noise_pipeline.returncode != 0
    assert "failed evaluation (R² " in noise_pipeline.stderr
    assert "Pass -P force=true" in noise_pipeline.stderr
    assert "Traceback" not in noise_pipeline.stderr
    client = workspace.client()
    (register_run, *_) = step_runs(client, "register")
    assert register_run.info.status == "FAILED"
    assert client.search_model_versions(f"name = '{MODEL_NAME}'") == []


def test_force_registers_it_marked_forced_and_never_champion(workspace, noise_pipeline):
    client = workspace.client()
    (evaluate_run, *_) = step_runs(client, "evaluate")
    result = workspace.mlflow_run("-e", "register", "-P", f"evaluate_run_id={evaluate_run.info.run_id}",
                                  "-P", "force=true")
    assert result.returncode == 0, explain(result)
    version = client.get_model_version(MODEL_NAME, "1")
    assert version.tags["forced"].startswith("true") and version.tags["evaluation"] == "failed"
    assert version.aliases == ["challenger"]


def test_registering_the_same_train_run_again_makes_no_new_version(workspace, noise_pipeline):
    client = workspace.client()
    (evaluate_run, *_) = step_runs(client, "evaluate")
    result = workspace.mlflow_run("-e", "register", "-P", f"evaluate_run_id={evaluate_run.info.run_id}",
                                  "-P", "force=true")
    assert result.returncode == 0, explain(result)
    assert "already version 1" in result.stdout
    assert len(client.search_model_versions(f"name = '{MODEL_NAME}'")) == 1


def test_a_run_of_the_wrong_step_is_refused(workspace, noise_pipeline):
    client = workspace.client()
    (train_run, *_) = step_runs(client, "train")
    result = workspace.mlflow_run("-e", "register", "-P", f"evaluate_run_id={train_run.info.run_id}")
    assert result.returncode != 0
    assert f"run {train_run.info.run_id} is a run of step 'train'; expected a run of step 'evaluate'." in result.stderr
    missing = workspace.mlflow_run("-e", "evaluate", "-P", "train_run_id=0123456789abcdef")
    assert missing.returncode != 0
    assert "no run with ID '0123456789abcdef'" in missing.stderr
    assert "Traceback" not in result.stderr + missing.stderr
