"""The driver's final report: the business questions answered with this pipeline run's numbers.

The report depends on the eda, train and evaluate runs only (and the registered version's
name, which is cheap to write in). So the driver renders its figure while ``register``
runs, and when those three runs were all reused it copies the report of the pipeline run
that already made it, instead of drawing it again.
"""

import hashlib
import tempfile
from concurrent.futures import ThreadPoolExecutor

from steps.cache import code_hash

REPORT_KEY_TAG = "tv_sales.report_key"
SOURCES = ("eda", "train", "evaluate")


def report_inputs(config, run_ids):
    """The numbers the report needs, read from the step runs (nothing is recomputed)."""
    import mlflow

    eda = mlflow.get_run(run_ids["eda"]).data.metrics
    train = mlflow.get_run(run_ids["train"]).data.metrics
    evaluate = mlflow.get_run(run_ids["evaluate"]).data.metrics
    names = ("mae", "mape", "r2", "rmse")
    # The registered model's formula, from the summary its train run logged (loading the
    # model here would cost the driver seconds).
    summary = {"n": int(train["n_train"]), "intercept": train["intercept"], "slope": train["slope"],
               "sigma": train["residual_sigma"], "x_mean": train["train_x_mean"],
               "sxx": train["train_x_sxx"]}
    return {"eda": eda, "summary": summary,
            "slope_ci": (train["slope_ci_low"], train["slope_ci_high"]),
            "test": {name: evaluate[f"test_{name}"] for name in names},
            "baseline": {name: evaluate[f"baseline_{name}"] for name in names},
            "tv_range": (eda["tv_min"], eda["tv_max"]), "level": config.interval_level}


def render_what_if(config, inputs):
    """The what-if table (budgets, predictions, interval bounds) and its plot as PNG bytes."""
    import pandas as pd

    from steps.common import figure_png
    from tvsales import model_plots as plots
    from tvsales.intervals import prediction_interval
    from tvsales.report import what_if_budgets

    summary, top = inputs["summary"], inputs["tv_range"][1]
    budgets = what_if_budgets(top)
    lower, upper = prediction_interval(summary, budgets, inputs["level"])
    table = pd.DataFrame({config.feature: budgets,
                          "prediction": summary["intercept"] + summary["slope"] * budgets,
                          "lower": lower, "upper": upper})
    return table, figure_png(plots.what_if(table, config.feature, config.target, top, inputs["level"]))


def model_ref_of(run):
    """``"<name> version <N>"`` of the model a pipeline run registered."""
    tags = run.data.tags
    return f"{tags.get('tv_sales.model_name')} version {tags.get('tv_sales.model_version')}"


class BusinessReport:
    """Prepared beside ``register`` (``start``), logged on the driver's run when it is done (``log``)."""

    def __init__(self, config, client, experiment_id):
        self.config, self.client, self.experiment_id = config, client, experiment_id
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.rendering = self.previous = None

    def start(self, run_ids, reused):
        """Find the report to copy, or begin drawing a new one in the background."""
        self.key, self.run_ids = self.report_key(run_ids), dict(run_ids)
        if set(SOURCES) <= set(reused):
            self.previous = self.find_previous()
        if self.previous is None:
            self.rendering = self.pool.submit(self._render, self.run_ids)

    def report_key(self, run_ids):
        content = [run_ids[step] for step in SOURCES]
        content += [code_hash("business_report"), repr(self.config.interval_level),
                    self.config.feature, self.config.target]
        return hashlib.sha256("\0".join(content).encode()).hexdigest()

    def find_previous(self):
        runs = self.client.search_runs(
            [self.experiment_id],
            f"tags.`{REPORT_KEY_TAG}` = '{self.key}' and attributes.status = 'FINISHED'",
            order_by=["attributes.start_time DESC"], max_results=1)
        return runs[0] if runs else None

    def _render(self, run_ids):
        inputs = report_inputs(self.config, run_ids)
        return inputs, render_what_if(self.config, inputs)

    def log(self, model_ref):
        """Log ``report/`` on the active run: copied from an earlier run, or the one drawn here."""
        import mlflow

        try:
            if self.previous is not None and model_ref_of(self.previous) == model_ref:
                self._copy(self.previous.info.run_id)
            else:
                if self.rendering is None:  # the copy would name another model version
                    self.rendering = self.pool.submit(self._render, self.run_ids)
                inputs, (table, png) = self.rendering.result()
                self._log_new(inputs, table, png, model_ref)
            mlflow.set_tag(REPORT_KEY_TAG, self.key)
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _copy(self, run_id):
        import mlflow

        with tempfile.TemporaryDirectory() as tmp:
            local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="report",
                                                        dst_path=tmp)
            mlflow.log_artifacts(local, "report")
        mlflow.set_tag("tv_sales.report_copied_from", run_id)

    def _log_new(self, inputs, table, png, model_ref):
        import mlflow

        from steps.common import log_png
        from tvsales.report import business_report_html

        log_png(png, "report/what_if.png")
        mlflow.log_text(table.to_csv(index=False), "report/what_if.csv")
        html = business_report_html(
            inputs["eda"], inputs["test"], inputs["baseline"], inputs["summary"]["slope"],
            inputs["slope_ci"], inputs["level"], table, png, model_ref, inputs["tv_range"],
            bool(inputs["eda"]["errors_grow"]))
        mlflow.log_text(html, "report/business_report.html")
