"""Step 2, validate: read the ingested file, check it against config.yaml's schema; pass on the clean
table."""

import argparse

from steps.cards import note_checks
from steps.common import download, log_json, log_table, run_step, tag_lineage, upstream_run
from steps.ingest import RAW_FILE_TAG
from tvsales.data import validate_file
from tvsales.errors import PipelineError


def validate(config, ingest_run_id):
    import mlflow

    ingest_run = upstream_run(ingest_run_id, "ingest", "ingest_run_id")
    tag_lineage(ingest_run)
    raw_file = ingest_run.data.tags.get(RAW_FILE_TAG)
    if not raw_file:
        raise PipelineError(f"parameter 'ingest_run_id': ingest run {ingest_run.info.run_id} recorded no "
                            f"data file (tag {RAW_FILE_TAG}); it was made by an older version. Run "
                            "ingest again.")
    source = ingest_run.data.tags.get("tv_sales.data_source", raw_file)
    report, clean = validate_file(download(ingest_run, raw_file), config.feature, config.target,
                                  config.min_rows, config.separator, config.decimal, name=source)
    log_json(report.to_dict(), "validation/report.json")
    note_checks(report.checks, [problem["message"] for problem in report.problems])
    mlflow.log_text(report.to_markdown(), "validation/report.md")
    mlflow.log_metrics({"n_rows": report.n_rows, "n_columns": report.n_columns,
                        "n_problems": len(report.problems)})
    mlflow.set_tags({"tv_sales.validation": "passed" if report.passed else "failed",
                     "tv_sales.data_source": source})
    if not report.passed:
        raise PipelineError(report.error_message())
    log_table(clean, "data/validated.parquet")
    for note in report.notes:
        print(f"validate: note: {note}")
    print(f"validate: {len(clean)} rows passed every check")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ingest-run-id", required=True)
    args = parser.parse_args(argv)
    run_step("validate", lambda config: validate(config, args.ingest_run_id),
             params={"ingest_run_id": args.ingest_run_id})


if __name__ == "__main__":
    main()
