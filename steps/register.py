"""Step 6, register: put an evaluated model in the Model Registry and set its aliases."""

import argparse

from steps.common import run_step, tag_lineage, upstream_run
from tvsales.config import parse_bool
from tvsales.errors import PipelineError

CHAMPION, CHALLENGER = "champion", "challenger"


def register(config, evaluate_run_id, force):
    import mlflow

    evaluate_run = upstream_run(evaluate_run_id, "evaluate", "evaluate_run_id")
    upstream = tag_lineage(evaluate_run)
    passed = evaluate_run.data.tags.get("tv_sales.evaluation") == "passed"
    if not passed and not force:
        failures = evaluate_run.data.tags.get("tv_sales.evaluation_failures", "")
        raise PipelineError(
            f"the model of evaluate run {evaluate_run_id} failed evaluation ({failures}); it was not "
            "registered. Pass -P force=true to register it anyway."
        )
    client = mlflow.tracking.MlflowClient()
    train_run_id = upstream["train"]
    existing = client.search_model_versions(f"name = '{config.model_name}' and run_id = '{train_run_id}'")
    if existing:
        version = existing[0]
        print(f"register: the model of train run {train_run_id} is already version {version.version}")
    else:
        metrics = {f"test_{name}": evaluate_run.data.metrics[f"test_{name}"]
                   for name in ("mae", "mape", "r2", "rmse")}
        tags = {**{key: str(value) for key, value in metrics.items()},
                **{f"{step}_run_id": run_id for step, run_id in upstream.items()},
                "register_run_id": mlflow.active_run().info.run_id,
                "evaluation": "passed" if passed else "failed"}
        if force and not passed:
            tags["forced"] = "true: registered although evaluation failed"
        model_uri = evaluate_run.data.tags["tv_sales.model_uri"]
        version = mlflow.register_model(model_uri, config.model_name, tags=tags)
    client.set_registered_model_alias(config.model_name, CHALLENGER, version.version)
    aliases = [CHALLENGER]
    try:
        client.get_model_version_by_alias(config.model_name, CHAMPION)
    except mlflow.exceptions.MlflowException:
        if passed:
            client.set_registered_model_alias(config.model_name, CHAMPION, version.version)
            aliases.append(CHAMPION)
    mlflow.set_tags({"tv_sales.model_name": config.model_name,
                     "tv_sales.model_version": str(version.version),
                     "tv_sales.aliases": ",".join(aliases)})
    mlflow.log_metric("model_version", int(version.version))
    print(f"register: {config.model_name} version {version.version}, aliases {', '.join(aliases)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--evaluate-run-id", required=True)
    parser.add_argument("--force", default="false", help="register even if evaluation failed")
    args = parser.parse_args(argv)

    def work(config):
        register(config, args.evaluate_run_id, parse_bool(args.force, "parameter 'force'"))

    run_step("register", work,
             params={"evaluate_run_id": args.evaluate_run_id, "force": args.force})


if __name__ == "__main__":
    main()
