"""Step 5, evaluate: score the trained model on exactly its test split, against a mean baseline."""

import argparse

from steps.common import log_figure, read_parquet_artifact, run_step, tag_lineage, upstream_run
from steps.registry import CHAMPION, alias_version, score_on_test_split


def score_champion(config, test_set):
    """Score the current champion on this test split too, for register's comparison.

    Done here, where the test split and the libraries are already loaded; register uses it
    when the champion has not changed in between.
    """
    import mlflow

    client = mlflow.tracking.MlflowClient()
    champion = alias_version(client, config.model_name, CHAMPION)
    if champion is None:
        return
    score = score_on_test_split(f"models:/{config.model_name}/{champion}", test_set, config)
    mlflow.log_metric(f"champion_{config.promotion_metric}", score)
    mlflow.set_tag("tv_sales.champion_version", champion)


def evaluate(config, train_run_id):
    import mlflow
    import numpy as np

    from tvsales import model_plots as plots
    from tvsales.model import check_thresholds, regression_metrics

    train_run = upstream_run(train_run_id, "train", "train_run_id")
    tag_lineage(train_run)
    model_uri = train_run.data.tags["tv_sales.model_uri"]
    model = mlflow.pyfunc.load_model(model_uri)
    train_set = read_parquet_artifact(train_run, "split/train.parquet", columns=[config.target])
    test_set = read_parquet_artifact(train_run, "split/test.parquet")
    y_true = test_set[config.target].to_numpy()
    y_pred = model.predict(test_set[[config.feature]])["prediction"].to_numpy(dtype="float64")
    test_metrics = regression_metrics(y_true, y_pred)
    baseline = regression_metrics(y_true, np.full_like(y_true, train_set[config.target].mean()))
    passed, failures = check_thresholds(test_metrics, config.min_r2, config.max_mape)
    mlflow.log_metrics({
        **{f"test_{name}": value for name, value in test_metrics.items()},
        **{f"baseline_{name}": value for name, value in baseline.items()},
        "passed": float(passed),
    })
    mlflow.log_params({"threshold_min_r2": config.min_r2, "threshold_max_mape": config.max_mape})
    mlflow.set_tags({
        "tv_sales.model_uri": model_uri,
        "tv_sales.evaluation": "passed" if passed else "failed",
        "tv_sales.evaluation_failures": "; ".join(failures),
    })
    score_champion(config, test_set)
    log_figure(plots.predicted_vs_actual(y_true, y_pred, config.target), "plots/predicted_vs_actual.png")
    log_figure(plots.residuals(y_pred, y_true - y_pred, config.target), "plots/residuals.png")
    summary = ", ".join(f"{name.upper()} {value:.4f}" for name, value in test_metrics.items())
    verdict = "passed" if passed else "FAILED: " + "; ".join(failures)
    print(f"evaluate: test {summary} (baseline RMSE {baseline['rmse']:.4f}); thresholds {verdict}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-run-id", required=True)
    args = parser.parse_args(argv)
    run_step("evaluate", lambda config: evaluate(config, args.train_run_id),
             params={"train_run_id": args.train_run_id})


if __name__ == "__main__":
    main()
