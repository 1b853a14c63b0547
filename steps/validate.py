"""Step 2, validate: check the ingested table against config.yaml's schema; pass on the clean table."""

import argparse

from steps.cards import note_checks
from steps.common import log_json, log_table, read_parquet_artifact, run_step, tag_lineage, upstream_run
from tvsales.data import validate_table
from tvsales.errors import PipelineError


def validate(config, ingest_run_id):
    import mlflow

    ingest_run = upstream_run(ingest_run_id, "ingest", "ingest_run_id")
    tag_lineage(ingest_run)
    table = read_parquet_artifact(ingest_run, "data/raw.parquet")
    source = ingest_run.data.tags.get("tv_sales.data_source", "the ingested table")
    report, clean = validate_table(table, config.feature, config.target, config.min_rows, source)
    log_json(report.to_dict(), "validation/report.json")
    note_checks(report.checks, [problem["message"] for problem in report.problems])
    mlflow.log_text(report.to_markdown(), "validation/report.md")
    mlflow.log_metrics({"n_rows": report.n_rows, "n_problems": len(report.problems)})
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
