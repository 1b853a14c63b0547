"""The driver's final report: the business questions answered with this pipeline run's numbers."""

from steps.common import log_figure


def log_business_report(config, run_ids, model_name, model_version):
    """Build the report from the step runs and the registered version; log it on the active run."""
    import mlflow
    import pandas as pd

    from tvsales import model_plots as plots
    from tvsales.intervals import prediction_interval
    from tvsales.report import business_report_html, what_if_budgets

    eda = mlflow.get_run(run_ids["eda"]).data.metrics
    train = mlflow.get_run(run_ids["train"]).data
    evaluate = mlflow.get_run(run_ids["evaluate"]).data.metrics
    test_metrics = {name: evaluate[f"test_{name}"] for name in ("mae", "mape", "r2", "rmse")}
    baseline = {name: evaluate[f"baseline_{name}"] for name in ("mae", "mape", "r2", "rmse")}
    tv_range = (eda["tv_min"], eda["tv_max"])
    # The registered model's predictions, from the summary its train run logged (the same
    # formula the model applies; loading the model here would cost the driver seconds).
    metrics = train.metrics
    summary = {"n": int(metrics["n_train"]), "intercept": metrics["intercept"], "slope": metrics["slope"],
               "sigma": metrics["residual_sigma"], "x_mean": metrics["train_x_mean"],
               "sxx": metrics["train_x_sxx"]}
    budgets = what_if_budgets(tv_range[1])
    lower, upper = prediction_interval(summary, budgets, config.interval_level)
    what_if = pd.DataFrame({config.feature: budgets,
                            "prediction": summary["intercept"] + summary["slope"] * budgets,
                            "lower": lower, "upper": upper})
    png = log_figure(plots.what_if(what_if, config.feature, config.target, tv_range[1],
                                   config.interval_level), "report/what_if.png")
    mlflow.log_text(what_if.to_csv(index=False), "report/what_if.csv")
    html = business_report_html(
        eda, test_metrics, baseline, train.metrics["slope"],
        (train.metrics["slope_ci_low"], train.metrics["slope_ci_high"]), config.interval_level,
        what_if, png, f"{model_name} version {model_version}", tv_range, bool(eda["errors_grow"]))
    mlflow.log_text(html, "report/business_report.html")
