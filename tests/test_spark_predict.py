"""Batch prediction on Apache Spark (local[*]) through the real `mlflow run . -e predict`, against the
pandas path on the same generated input; the pipeline itself on generated data."""

import numpy as np
import pandas as pd
import pytest

from conftest import EXPERIMENT, MODEL_NAME, explain
from tvsales.synthetic import write

pytestmark = pytest.mark.slow
SPARK = "spark_master=local[*]"


def predict_runs(client):
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return client.search_runs([experiment.experiment_id], "tags.`tv_sales.step` = 'predict'",
                              order_by=["attributes.start_time DESC"])


def artifact(workspace, run, path):
    import mlflow

    return mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path=path,
                                               tracking_uri=workspace.tracking_uri)


@pytest.fixture(scope="module")
def scored(workspace):
    """A pipeline on 20,000 generated rows, then 30,000 generated budgets scored with pandas and Spark."""
    data = write(workspace.root / "generated.csv", 20_000, seed=5)
    pipeline = workspace.mlflow_run("-P", f"data_path={data}")
    assert pipeline.returncode == 0, explain(pipeline)
    budgets = write(workspace.root / "budgets.parquet", 30_000, seed=6)
    outputs = {}
    for name, extra in (("pandas", ()), ("spark", ("-P", SPARK))):
        result = workspace.mlflow_run("-e", "predict", "-P", f"input_path={budgets}", *extra)
        assert result.returncode == 0, explain(result)
        run = predict_runs(workspace.client())[0]
        outputs[name] = (run, pd.read_parquet(artifact(workspace, run, "predictions/predictions.parquet")))
    return {"budgets": budgets, "pipeline": pipeline, **outputs}


def test_spark_predictions_equal_the_pandas_paths(scored):
    (_, pandas_out), (spark_run, spark_out) = scored["pandas"], scored["spark"]
    assert list(spark_out.columns) == list(pandas_out.columns) == ["TV", "Sales", "prediction", "lower", "upper"]
    assert len(spark_out) == len(pandas_out) == 30_000
    np.testing.assert_array_equal(spark_out.to_numpy(), pandas_out.to_numpy())  # same rows, same order
    assert spark_run.data.tags["tv_sales.spark_master"] == "local[*]"
    assert spark_run.data.metrics["n_rows"] == 30_000


def test_predictions_are_the_champions_line(workspace, scored):
    client = workspace.client()
    champion = client.get_model_version_by_alias(MODEL_NAME, "champion")
    train = client.get_run(champion.run_id).data.metrics
    _, out = scored["spark"]
    np.testing.assert_allclose(out["prediction"], train["intercept"] + train["slope"] * out["TV"], rtol=1e-12)
    assert (out["lower"] < out["prediction"]).all() and (out["prediction"] < out["upper"]).all()
    assert scored["spark"][0].data.tags["tv_sales.model_version"] == str(champion.version)


def test_the_pipeline_on_generated_data_samples_its_scatter_plots_and_says_so(workspace, scored):
    assert "registered model: tv-sales-regressor version 1" in scored["pipeline"].stdout
    client = workspace.client()
    experiment = client.get_experiment_by_name(EXPERIMENT)
    (eda, *_) = client.search_runs([experiment.experiment_id], "tags.`tv_sales.step` = 'eda'")
    card = open(artifact(workspace, eda, "card/eda.html"), encoding="utf-8").read()
    assert "random sample of 10,000 of 20,000 rows" in card
    assert eda.data.metrics["n_rows"] == 20_000 and eda.data.metrics["peak_rss_mb"] > 50


def test_a_csv_input_on_spark_writes_to_output_path_and_never_over_it(workspace, scored, tmp_path):
    budgets = workspace.root / "budgets.csv"
    pd.read_parquet(scored["budgets"]).head(2000).assign(region="north").to_csv(budgets, index=False)
    target = tmp_path / "out.parquet"
    result = workspace.mlflow_run("-e", "predict", "-P", f"input_path={budgets}", "-P", SPARK,
                                  "-P", f"output_path={target}")
    assert result.returncode == 0, explain(result)
    spark_out = pd.read_parquet(target)
    assert list(spark_out.columns) == ["TV", "Sales", "region", "prediction", "lower", "upper"]
    pandas_out = scored["pandas"][1].head(2000)
    for column in ("TV", "prediction", "lower", "upper"):  # TV as the number scored, not the CSV's text
        np.testing.assert_array_equal(spark_out[column].to_numpy(), pandas_out[column].to_numpy())
    assert spark_out["TV"].dtype == "float64"
    assert predict_runs(workspace.client())[0].data.tags["tv_sales.predictions"] == str(target)
    again = workspace.mlflow_run("-e", "predict", "-P", f"input_path={budgets}", "-P", SPARK,
                                 "-P", f"output_path={target}")
    assert again.returncode != 0 and f"output_path '{target}' exists; predictions are never written" in again.stderr
    assert "Traceback" not in again.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(target), spark_out)  # nothing overwritten


def test_bad_budgets_on_spark_are_refused_with_counts_and_examples(workspace, scored):
    bad = workspace.root / "bad_budgets.csv"
    bad.write_text("TV,region\n100,a\n-5,b\nabc,c\n,d\ninf,e\n230,1,f\n")
    result = workspace.mlflow_run("-e", "predict", "-P", f"input_path={bad}", "-P", SPARK)
    assert result.returncode != 0
    assert "Spark cannot read it: [MALFORMED_CSV_RECORD] Malformed CSV record: 230,1,f" in result.stderr
    assert "Traceback" not in result.stderr
    bad.write_text("TV,region\n100,a\n-5,b\nabc,c\n,d\ninf,e\n")
    result = workspace.mlflow_run("-e", "predict", "-P", f"input_path={bad}", "-P", SPARK)
    assert result.returncode != 0 and "Traceback" not in result.stderr, explain(result)
    for fragment in (f"{bad}: cannot be scored (4 problem(s))", "value is not a number in 1 row(s), e.g. 'abc'",
                     "missing value in 1 row(s)", "value is not finite in 1 row(s), e.g. 'inf'",
                     "value is negative in 1 row(s), e.g. '-5'"):
        assert fragment in result.stderr, (fragment, result.stderr)
    assert predict_runs(workspace.client())[0].info.status == "FAILED"


def test_spark_parameters_are_checked_before_any_work(workspace, scored):
    budgets = scored["budgets"]
    result = workspace.mlflow_run("-e", "predict", "-P", f"input_path={budgets}", "-P", "output_path=/tmp/x")
    assert result.returncode != 0 and "set spark_master too" in result.stderr
    result = workspace.mlflow_run("-e", "predict", "-P", f"input_path={budgets}",
                                  "-P", "spark_master=spark://nowhere:7077")
    assert result.returncode != 0 and "parameter 'output_path' is needed with spark_master" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_master_spark_cannot_start_on_is_named_in_one_message(workspace, scored, tmp_path):
    result = workspace.mlflow_run("-e", "predict", "-P", f"input_path={scored['budgets']}",
                                  "-P", "spark_master=bogus://x", "-P", f"output_path={tmp_path / 'out'}")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "predict failed: spark_master 'bogus://x': Spark cannot start a session there" in result.stderr
    assert not (tmp_path / "out").exists()
    assert predict_runs(workspace.client())[0].info.status == "FAILED"
