"""The model lifecycle against a real registry: fair promotion, promote, rollback, batch prediction."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import DATA, EXPERIMENT, MODEL_NAME, explain

pytestmark = pytest.mark.slow


def latest(client, step, **extra):
    experiment = client.get_experiment_by_name(EXPERIMENT)
    query = " and ".join([f"tags.`tv_sales.step` = '{step}'"] + [f"{k} = '{v}'" for k, v in extra.items()])
    return client.search_runs([experiment.experiment_id], query, order_by=["attributes.start_time DESC"])


def download(workspace, run_id, path):
    import mlflow

    return mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path,
                                               tracking_uri=workspace.tracking_uri)


def aliases(client):
    model = client.get_registered_model(MODEL_NAME)
    return {alias: str(version) for alias, version in model.aliases.items()}


@pytest.fixture(scope="module")
def lifecycle(workspace):
    """Two pipelines: a noisy copy of the data first (version 1), then the real data (version 2)."""
    table = pd.read_csv(DATA)
    rng = np.random.default_rng(1)
    table["Sales"] = (table["Sales"] + rng.normal(0, 1, len(table))).clip(lower=0.1).round(1)
    noisy = workspace.root / "noisy.csv"
    table.to_csv(noisy, index=False)
    first = workspace.mlflow_run("-P", f"data_path={noisy}")
    assert first.returncode == 0, explain(first)
    second = workspace.mlflow_run("-P", "test_size=0.33")
    assert second.returncode == 0, explain(second)
    client = workspace.client()
    registers = latest(client, "register")
    trains = latest(client, "train")
    return {"client": client, "second": second, "register": registers[0],
            "train_v1": trains[1], "train_v2": trains[0]}


def test_better_model_becomes_champion_on_the_new_runs_test_split(workspace, lifecycle):
    client = lifecycle["client"]
    test = pd.read_parquet(download(workspace, lifecycle["train_v2"].info.run_id, "split/test.parquet"))
    train = pd.read_parquet(download(workspace, lifecycle["train_v2"].info.run_id, "split/train.parquet"))

    def rmse(intercept, slope):
        return float(np.sqrt(np.mean((test["Sales"] - intercept - slope * test["TV"]) ** 2)))

    v1 = lifecycle["train_v1"].data.metrics
    champion_score = rmse(v1["intercept"], v1["slope"])
    slope, intercept = np.polyfit(train["TV"], train["Sales"], 1)
    candidate_score = rmse(intercept, slope)
    assert candidate_score < champion_score  # the real data's model is the better one here

    register = lifecycle["register"]
    assert register.data.metrics["champion_rmse"] == pytest.approx(champion_score)
    assert register.data.metrics["candidate_rmse"] == pytest.approx(candidate_score)
    assert register.data.tags["tv_sales.promotion"] == "champion"
    assert aliases(client) == {"champion": "2", "challenger": "1", "previous-champion": "1"}
    v2 = client.get_model_version(MODEL_NAME, "2")
    assert float(v2.tags["promotion.champion_score"]) == pytest.approx(champion_score)
    assert float(v2.tags["promotion.candidate_score"]) == pytest.approx(candidate_score)
    assert v2.tags["promotion.decision"] == "champion" and v2.tags["promotion.metric"] == "rmse"
    assert v2.tags["champion.promoted_from"] == "1"
    assert "registered model: tv-sales-regressor version 2, aliases: champion" in lifecycle["second"].stdout


def test_a_worse_model_stays_challenger(workspace, lifecycle):
    client = lifecycle["client"]
    evaluate_v1 = latest(client, "evaluate")[1]
    # re-registering version 1's train run: same version, compared with champion 2, stays challenger
    result = workspace.mlflow_run("-e", "register", "-P", f"evaluate_run_id={evaluate_v1.info.run_id}")
    assert result.returncode == 0, explain(result)
    assert "already version 1" in result.stdout
    assert aliases(client)["champion"] == "2"
    # re-registering the champion's own run changes no alias
    evaluate_v2 = latest(client, "evaluate")[0]
    again = workspace.mlflow_run("-e", "register", "-P", f"evaluate_run_id={evaluate_v2.info.run_id}")
    assert again.returncode == 0, explain(again)
    assert aliases(client) == {"champion": "2", "challenger": "1", "previous-champion": "1"}


def test_promote_and_rollback_record_who_when_from_and_to(workspace, lifecycle):
    client = lifecycle["client"]
    result = workspace.mlflow_run("-e", "promote", "-P", "version=1")
    assert result.returncode == 0, explain(result)
    assert aliases(client) == {"champion": "1", "previous-champion": "2", "challenger": "1"}
    v1 = client.get_model_version(MODEL_NAME, "1")
    assert v1.tags["champion.promoted_from"] == "2" and v1.tags["champion.reason"] == "promoted by hand"
    assert v1.tags["champion.promoted_by"] and v1.tags["champion.promoted_at"].startswith("20")
    (promote_run, *_) = latest(client, "promote")
    assert promote_run.data.tags["tv_sales.champion_from"] == "2"
    assert promote_run.data.tags["tv_sales.champion_to"] == "1"

    back = workspace.mlflow_run("-e", "promote", "-P", "rollback=true")
    assert back.returncode == 0, explain(back)
    assert aliases(client)["champion"] == "2" and aliases(client)["previous-champion"] == "1"
    assert client.get_model_version(MODEL_NAME, "2").tags["champion.reason"] == "rollback from version 1"
    before = aliases(client)
    same = workspace.mlflow_run("-e", "promote", "-P", "version=02")  # "02" is version 2
    assert same.returncode == 0, explain(same)
    assert "version 2 is already the champion" in same.stdout and aliases(client) == before


def test_promoting_a_missing_or_failed_version_is_refused_unless_forced(workspace, lifecycle):
    client = lifecycle["client"]
    before = aliases(client)
    missing = workspace.mlflow_run("-e", "promote", "-P", "version=99")
    assert missing.returncode != 0
    assert "model 'tv-sales-regressor' has no version '99'; nothing was changed." in missing.stderr
    assert aliases(client) == before

    rng = np.random.default_rng(5)
    noise = workspace.root / "noise.csv"
    pd.DataFrame({"TV": rng.uniform(0, 300, 80), "Sales": rng.uniform(1, 27, 80)}).to_csv(noise, index=False)
    failing = workspace.mlflow_run("-P", f"data_path={noise}", "-P", "force=true")
    assert failing.returncode == 0, explain(failing)
    assert aliases(client)["champion"] == before["champion"]  # a failed model is never promoted itself
    v3 = client.get_model_version(MODEL_NAME, "3")
    assert v3.tags["evaluation"] == "failed" and v3.tags["forced"].startswith("true")

    refused = workspace.mlflow_run("-e", "promote", "-P", "version=3")
    assert refused.returncode != 0 and "did not pass evaluation" in refused.stderr
    assert aliases(client)["champion"] == before["champion"]
    forced = workspace.mlflow_run("-e", "promote", "-P", "version=3", "-P", "force=true")
    assert forced.returncode == 0, explain(forced)
    assert aliases(client)["champion"] == "3"
    assert client.get_model_version(MODEL_NAME, "3").tags["champion.forced"].startswith("true")
    restored = workspace.mlflow_run("-e", "promote", "-P", "rollback=true")
    assert restored.returncode == 0, explain(restored)
    assert aliases(client)["champion"] == before["champion"]


def test_batch_prediction_with_intervals(workspace, lifecycle):
    client = lifecycle["client"]
    budgets = workspace.root / "budgets.csv"
    pd.DataFrame({"TV": [0, 100, 250.5], "region": ["a", "b", "c"]}).to_csv(budgets, index=False)
    latest_uri = workspace.mlflow_run("-e", "predict", "-P", f"input_path={budgets}",
                                      "-P", f"model_uri=models:/{MODEL_NAME}/latest")
    assert latest_uri.returncode == 0, explain(latest_uri)
    result = workspace.mlflow_run("-e", "predict", "-P", f"input_path={budgets}")
    assert result.returncode == 0, explain(result)
    (run, *_) = latest(client, "predict")
    champion = client.get_model_version_by_alias(MODEL_NAME, "champion")
    assert run.data.tags["tv_sales.model_version"] == str(champion.version)
    assert run.data.tags["tv_sales.model_run_id"] == champion.run_id
    out = pd.read_csv(download(workspace, run.info.run_id, "predictions/predictions.csv"))
    assert list(out.columns) == ["TV", "region", "prediction", "lower", "upper"]
    train = pd.read_parquet(download(workspace, champion.run_id, "split/train.parquet"))
    fit = stats.linregress(train["TV"], train["Sales"])
    x = out["TV"].to_numpy()
    assert out["prediction"].to_numpy() == pytest.approx(fit.intercept + fit.slope * x)
    n = len(train)
    sigma = np.sqrt(np.sum((train["Sales"] - fit.intercept - fit.slope * train["TV"]) ** 2) / (n - 2))
    se = sigma * np.sqrt(1 + 1 / n + (x - train["TV"].mean()) ** 2 / np.sum((train["TV"] - train["TV"].mean()) ** 2))
    half = stats.t.ppf(0.975, n - 2) * se
    assert out["upper"].to_numpy() == pytest.approx(fit.intercept + fit.slope * x + half)
    assert out["lower"].to_numpy() == pytest.approx(fit.intercept + fit.slope * x - half)


def test_batch_prediction_refuses_bad_budgets(workspace, lifecycle):
    bad = workspace.root / "bad_budgets.csv"
    bad.write_text("TV\n100\n-5\nabc\n\ninf\n")
    result = workspace.mlflow_run("-e", "predict", "-P", f"input_path={bad}")
    assert result.returncode != 0
    assert str(bad) in result.stderr
    for fragment in ("negative in row 2", "not a number in row 3 ('abc')", "not finite in row 5"):
        assert fragment in result.stderr, fragment
    assert "Traceback" not in result.stderr
    for text, fragment in (("budget\n100\n", "column 'TV' is missing"), ("TV\n", "no rows to score"),
                           ("TV,prediction\n100,1\n", "would be overwritten")):
        wrong = workspace.root / "wrong.csv"
        wrong.write_text(text)
        result = workspace.mlflow_run("-e", "predict", "-P", f"input_path={wrong}")
        assert result.returncode != 0 and fragment in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    good = workspace.root / "good.csv"
    good.write_text("TV\n100\n")
    for uri, fragment in ((f"models:/{MODEL_NAME}", "names no version"),
                          (f"models:/{MODEL_NAME}@nobody", "no such registered model version or alias")):
        result = workspace.mlflow_run("-e", "predict", "-P", f"input_path={good}", "-P", f"model_uri={uri}")
        assert result.returncode != 0 and fragment in result.stderr, result.stderr


def test_the_registered_model_unpickles_nothing(workspace, lifecycle, monkeypatch):
    import mlflow
    import yaml

    monkeypatch.setenv("MLFLOW_TRACKING_URI", workspace.tracking_uri)  # models:/ needs the registry
    local = mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{MODEL_NAME}@champion")
    from pathlib import Path

    files = [p.name for p in Path(local).rglob("*") if p.is_file()]
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".joblib", ".cloudpickle"))], files
    mlmodel = yaml.safe_load((Path(local) / "MLmodel").read_text())
    assert mlmodel["flavors"]["python_function"]["model_code_path"].endswith("serving.py")
    regressor = yaml.safe_load((Path(local) / "artifacts" / "regressor" / "MLmodel").read_text())
    assert regressor["flavors"]["sklearn"]["serialization_format"] == "skops"


def test_pipeline_run_has_the_business_report(workspace, lifecycle):
    client = lifecycle["client"]
    (main, *_) = latest(client, "main", **{"params.data_path": "data/tvmarketing.csv"})
    report = open(download(workspace, main.info.run_id, "report/business_report.html")).read()
    for fragment in ("How much is spent on TV?", "29,408.5", "confidence interval", "What if",
                     "Recommendation", "Limits:", "margin"):
        assert fragment in report, fragment
    what_if = pd.read_csv(download(workspace, main.info.run_id, "report/what_if.csv"))
    assert (what_if["lower"] < what_if["prediction"]).all() and (what_if["prediction"] < what_if["upper"]).all()
