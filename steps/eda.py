"""Step 3, eda: statistics, the business answers as metrics, plots and a report in words."""

import argparse

from steps.common import log_figure, read_parquet_artifact, run_step, tag_lineage, upstream_run


def eda(config, validate_run_id):
    import mlflow

    from tvsales import eda_plots as plots
    from tvsales.analysis import business_answers, describe
    from tvsales.report import eda_report_html, errors_grow_with

    validate_run = upstream_run(validate_run_id, "validate", "validate_run_id")
    tag_lineage(validate_run)
    table = read_parquet_artifact(validate_run, "data/validated.parquet")
    statistics = describe(table)
    mlflow.log_table(statistics.reset_index(names="statistic"), "eda/statistics.json")
    mlflow.log_text(statistics.to_csv(), "eda/statistics.csv")
    answers = business_answers(table, config.feature, config.target)
    mlflow.log_metrics({**answers, "tv_min": float(table[config.feature].min()),
                        "tv_max": float(table[config.feature].max()),
                        "errors_grow": float(errors_grow_with(table[config.feature].to_numpy(),
                                                              table[config.target].to_numpy()))})
    images = {
        "Sales against TV spend": log_figure(
            plots.scatter(table, config.feature, config.target), "eda/scatter.png"),
        "Correlation heatmap": log_figure(plots.correlation_heatmap(table), "eda/correlation_heatmap.png"),
        "Distributions": log_figure(plots.distributions(table), "eda/distributions.png"),
    }
    source = validate_run.data.tags.get("tv_sales.data_source", "the validated table")
    html = eda_report_html(answers, statistics, images, source, config.feature, config.target)
    mlflow.log_text(html, "eda/report.html")
    print(f"eda: correlation {answers['correlation']:.4f}, "
          f"{answers['marginal_sales_per_tv']:.4f} extra sales per unit of TV spend")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--validate-run-id", required=True)
    args = parser.parse_args(argv)
    run_step("eda", lambda config: eda(config, args.validate_run_id),
             params={"validate_run_id": args.validate_run_id})


if __name__ == "__main__":
    main()
