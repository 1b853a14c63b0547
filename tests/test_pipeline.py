"""End to end: the real `mlflow run .` on the real data, checked against independent numbers."""

import numpy as np
import pandas as pd
import pytest

from conftest import EXPERIMENT, FACTS, MODEL_NAME, explain

pytestmark = pytest.mark.slow

STEPS = ["ingest", "validate", "eda", "train", "evaluate", "register"]
UPSTREAM = {"validate": "ingest", "eda": "validate", "train": "validate",
            "evaluate": "train", "register": "evaluate"}


@pytest.fixture(scope="module")
def pipeline(workspace):
    result = workspace.mlflow_run("-P", "test_size=0.33")
    assert result.returncode == 0, explain(result)
    client = workspace.client()
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id])
    mains = [run for run in runs if run.data.tags.get("tv_sales.step") == "main"]
    assert len(mains) == 1
    main = mains[0]
    children = {run.data.tags["tv_sales.step"]: run for run in runs
                if run.data.tags.get("mlflow.parentRunId") == main.info.run_id}
    return {"result": result, "client": client, "main": main, "steps": children}


def artifact(workspace, run, path):
    import mlflow

    return mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path=path,
                                               tracking_uri=workspace.tracking_uri)


def test_six_finished_child_runs_under_one_pipeline_run(pipeline):
    assert pipeline["main"].info.status == "FINISHED"
    experiment = pipeline["client"].get_experiment_by_name(EXPERIMENT)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"  # UI: model training
    assert sorted(pipeline["steps"]) == sorted(STEPS)
    for step, run in pipeline["steps"].items():
        assert run.info.status == "FINISHED", step
        assert run.info.run_name == step


def test_every_step_ran_in_the_local_environment(pipeline):
    import sys

    for step, run in pipeline["steps"].items():
        assert run.data.tags["tv_sales.python_env"] == sys.prefix, step
        assert "mlflow.project.env" not in run.data.tags, step  # never conda behind our back


def test_driver_prints_progress_and_summary(pipeline):
    out = pipeline["result"].stdout
    for number, step in enumerate(STEPS, start=1):
        assert f"[{number}/6] {step} finished" in out
        assert pipeline["steps"][step].info.run_id in out
    assert "registered model: tv-sales-regressor version 1, aliases: challenger, champion" in out
    assert "\x1b" not in out  # readable when piped to a file


def test_each_step_logs_its_parameters_and_upstream_run_ids(pipeline):
    steps = pipeline["steps"]
    for step, upstream in UPSTREAM.items():
        run = steps[step]
        assert run.data.params[f"{upstream}_run_id"] == steps[upstream].info.run_id, step
        assert run.data.tags[f"tv_sales.upstream.{upstream}"] == steps[upstream].info.run_id, step
    assert steps["ingest"].data.params["data_path"] == "data/tvmarketing.csv"
    assert steps["train"].data.params["test_size"] == "0.33"
    assert steps["train"].data.params["random_state"] == "42"
    assert pipeline["main"].data.params["env_manager"] == "local"


def test_ingest_logs_the_dataset_with_source_and_digest(pipeline):
    from conftest import DATA

    run = pipeline["steps"]["ingest"]
    assert run.data.metrics["n_bytes"] == DATA.stat().st_size
    assert run.data.metrics["n_rows"] == 200 and run.data.metrics["n_columns"] == 2
    assert run.data.tags["tv_sales.raw_file"] == "data/raw/tvmarketing.csv"
    validate = pipeline["steps"]["validate"].data.metrics
    assert validate["n_rows"] == 200 and validate["n_columns"] == 2
    assert run.data.tags["tv_sales.data_sha256"] == FACTS["sha256"]
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.source_type == "local"
    assert "tvmarketing.csv" in dataset_input.dataset.source
    assert dataset_input.dataset.digest


def test_validation_report_is_logged(workspace, pipeline):
    import json

    run = pipeline["steps"]["validate"]
    report = json.loads(open(artifact(workspace, run, "validation/report.json")).read())
    assert report["passed"] is True and report["n_rows"] == 200
    assert "PASSED" in open(artifact(workspace, run, "validation/report.md")).read()


def test_eda_answers_the_business_questions(workspace, pipeline):
    run = pipeline["steps"]["eda"]
    metrics = run.data.metrics
    assert metrics["correlation"] == pytest.approx(0.7822, abs=5e-5)
    for key in ("tv_total", "tv_mean", "sales_total", "sales_mean"):
        assert metrics[key] == pytest.approx(FACTS[key])
    report = open(artifact(workspace, run, "eda/report.html")).read()
    assert "0.7822" in report and "29,408.5" in report and "data:image/png;base64" in report
    for plot in ("scatter", "correlation_heatmap", "distributions"):
        assert open(artifact(workspace, run, f"eda/{plot}.png"), "rb").read(4) == b"\x89PNG"


def numpy_fit(train):
    x = np.column_stack([np.ones(len(train)), train["TV"].to_numpy()])
    (intercept, slope), *_ = np.linalg.lstsq(x, train["Sales"].to_numpy(), rcond=None)
    return intercept, slope


def test_model_and_test_metrics_equal_an_independent_numpy_computation(workspace, pipeline):
    train_run, evaluate_run = pipeline["steps"]["train"], pipeline["steps"]["evaluate"]
    train = pd.read_parquet(artifact(workspace, train_run, "split/train.parquet"))
    test = pd.read_parquet(artifact(workspace, train_run, "split/test.parquet"))
    assert (len(train), len(test)) == (134, 66)
    assert len(pd.concat([train, test]).drop_duplicates()) == 200
    intercept, slope = numpy_fit(train)
    assert train_run.data.metrics["intercept"] == pytest.approx(intercept)
    assert train_run.data.metrics["slope"] == pytest.approx(slope)
    y = test["Sales"].to_numpy()
    error = y - (intercept + slope * test["TV"].to_numpy())
    expected = {
        "mae": np.abs(error).mean(),
        "mape": np.mean(np.abs(error) / y),
        "rmse": np.sqrt(np.mean(error ** 2)),
        "r2": 1 - np.sum(error ** 2) / np.sum((y - y.mean()) ** 2),
    }
    metrics = evaluate_run.data.metrics
    for name, value in expected.items():
        assert metrics[f"test_{name}"] == pytest.approx(value), name
    baseline_error = y - train["Sales"].mean()
    assert metrics["baseline_rmse"] == pytest.approx(np.sqrt(np.mean(baseline_error ** 2)))
    assert metrics["baseline_r2"] < 0.05 < metrics["test_r2"]
    assert evaluate_run.data.tags["tv_sales.evaluation"] == "passed" and metrics["passed"] == 1
    for plot in ("predicted_vs_actual", "residuals"):
        assert open(artifact(workspace, evaluate_run, f"plots/{plot}.png"), "rb").read(4) == b"\x89PNG"


def test_registered_version_has_aliases_metrics_and_lineage(pipeline):
    client, steps = pipeline["client"], pipeline["steps"]
    (found,) = client.search_model_versions(f"name = '{MODEL_NAME}'")
    version = client.get_model_version(MODEL_NAME, found.version)  # search omits aliases
    assert set(version.aliases) == {"champion", "challenger"}
    for step in ("ingest", "validate", "train", "evaluate", "register"):
        assert version.tags[f"{step}_run_id"] == steps[step].info.run_id, step
    assert float(version.tags["test_rmse"]) == pytest.approx(
        steps["evaluate"].data.metrics["test_rmse"])
    assert version.tags["evaluation"] == "passed" and "forced" not in version.tags


def test_champion_loads_and_predicts_in_a_fresh_process(workspace, pipeline):
    import subprocess
    import sys

    train_run = pipeline["steps"]["train"]
    code = (
        "import mlflow, pandas as pd\n"
        f"model = mlflow.pyfunc.load_model('models:/{MODEL_NAME}@champion')\n"
        "print(model.predict(pd.DataFrame({'TV': [0.0, 100.0, 250.0]}))['prediction'].tolist())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=workspace.env(), capture_output=True,
                            text=True, timeout=300, cwd=workspace.root)
    assert result.returncode == 0, explain(result)
    predictions = [float(v) for v in result.stdout.strip().strip("[]").split(",")]
    intercept = train_run.data.metrics["intercept"]
    slope = train_run.data.metrics["slope"]
    assert predictions == pytest.approx([intercept, intercept + 100 * slope, intercept + 250 * slope])


def test_one_step_runs_alone(workspace, pipeline):
    validate_id = pipeline["steps"]["validate"].info.run_id
    result = workspace.mlflow_run("-e", "train", "-P", f"validate_run_id={validate_id}",
                                  "-P", "test_size=.25", "-P", "random_state=7")
    assert result.returncode == 0, explain(result)
    client = pipeline["client"]
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id],
                              "tags.`tv_sales.step` = 'train' and params.random_state = '7'")
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.data.params["test_size"] == "0.25"
    assert run.data.metrics["n_test"] == 50
    assert run.data.tags["tv_sales.upstream.validate"] == validate_id
    # `mlflow run` prints its launcher's ID last; handing that on works too
    (launcher,) = client.search_runs(["0"], f"tags.`tv_sales.launched_run_id` = '{run.info.run_id}'")
    assert launcher.info.run_id in result.stderr.splitlines()[-1]
    evaluate = workspace.mlflow_run("-e", "evaluate", "-P", f"train_run_id={launcher.info.run_id}")
    assert evaluate.returncode == 0, explain(evaluate)
    assert f"using the run it launched, {run.info.run_id}" in evaluate.stderr


def test_bad_data_stops_the_pipeline_with_one_clear_message(workspace, pipeline):
    bad = workspace.root / "bad.csv"
    bad.write_text("TV,Sales\n230.1,22.1\n44.5,abc\n-17.2,9.3\n" + "151.5,18.5\n" * 30)
    before = len(pipeline["client"].search_model_versions(f"name = '{MODEL_NAME}'"))
    result = workspace.mlflow_run("-P", f"data_path={bad}")
    assert result.returncode != 0
    assert "column 'Sales': value is not a number in row 2 ('abc')" in result.stderr
    assert "column 'TV': value is negative in row 3 (-17.2)" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("is not a number") == 1  # said once, not repeated by the driver
    assert "pipeline failed at step 'validate'" in result.stderr
    client = pipeline["client"]
    experiment = client.get_experiment_by_name(EXPERIMENT)
    (validate_run,) = client.search_runs(
        [experiment.experiment_id],
        "tags.`tv_sales.step` = 'validate' and attributes.status = 'FAILED'")
    assert "row 2" in validate_run.data.tags["tv_sales.error"]
    parent = client.get_run(validate_run.data.tags["mlflow.parentRunId"])
    assert parent.info.status == "FAILED"
    children = client.search_runs([experiment.experiment_id],
                                  f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert sorted(run.data.tags["tv_sales.step"] for run in children) == ["ingest", "validate"]
    assert len(client.search_model_versions(f"name = '{MODEL_NAME}'")) == before
