"""Step 6, register: put an evaluated model in the Model Registry; promote it only if it is better.

A new version becomes ``champion`` when it passed evaluation and beats the current
champion on the primary metric of config.yaml, both scored on the new run's test split
(MLflow's own gate, ``mlflow.validate_evaluation_results``, decides). Otherwise it is
``challenger``.
"""

import argparse

from steps.common import read_parquet_artifact, run_step, tag_lineage, upstream_run
from steps.registry import (CHALLENGER, CHAMPION, alias_version, aliases_of, registry_lock, restore,
                            score_on_test_split, set_champion)
from tvsales.config import LOWER_IS_BETTER, parse_bool
from tvsales.errors import PipelineError


def beats(config, candidate_score, champion_score):
    """``(True, message)`` when the candidate beats the champion by MLflow's gate, else ``(False, message)``."""
    from mlflow.models import MetricThreshold
    from mlflow.models.evaluation import EvaluationResult
    from mlflow.models.evaluation.validation import ModelValidationFailedException

    metric = config.promotion_metric
    threshold = MetricThreshold(min_absolute_change=config.min_improvement,
                                greater_is_better=metric not in LOWER_IS_BETTER)
    try:
        import mlflow

        mlflow.validate_evaluation_results(
            {metric: threshold},
            EvaluationResult(metrics={metric: candidate_score}, artifacts={}),
            EvaluationResult(metrics={metric: champion_score}, artifacts={}),
        )
    except ModelValidationFailedException as failed:
        return False, str(failed).strip()
    return True, f"{metric} {candidate_score:.4f} beats the champion's {champion_score:.4f}"


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
    name = config.model_name
    with registry_lock(name):  # another pipeline's register waits here: decisions never interleave
        aliases_before = aliases_of(client, name)
        try:
            version, reason = register_and_decide(config, client, name, evaluate_run, upstream,
                                                  passed, force)
        except BaseException:  # interrupted or failed midway: leave the registry as it was
            restore(client, name, aliases_before, mlflow.active_run().info.run_id)
            raise
    aliases = sorted(client.get_model_version(name, version).aliases)
    print(f"register: {name} version {version}, aliases {', '.join(aliases)}: {reason}")


def register_and_decide(config, client, name, evaluate_run, upstream, passed, force):
    """Register the model (or find its version), decide its alias and move the aliases.

    Returns the version and the reason for its alias.
    """
    import mlflow

    existing = client.search_model_versions(f"name = '{name}' and run_id = '{upstream['train']}'")
    if existing:
        version = str(existing[0].version)
        print(f"register: the model of train run {upstream['train']} is already version {version}")
    else:
        tags = {**{f"test_{m}": str(evaluate_run.data.metrics[f"test_{m}"])
                   for m in ("mae", "mape", "r2", "rmse")},
                **{f"{step}_run_id": run_id for step, run_id in upstream.items()},
                "register_run_id": mlflow.active_run().info.run_id,
                "evaluation": "passed" if passed else "failed"}
        if force and not passed:
            tags["forced"] = "true: registered although evaluation failed"
        model_uri = evaluate_run.data.tags["tv_sales.model_uri"]
        version = str(mlflow.register_model(model_uri, name, tags=tags).version)

    decision, reason = decide(config, client, name, version, passed, evaluate_run, upstream)
    replaced = set_champion(client, name, version, reason) if decision == CHAMPION else None
    # challenger: the version that lost the latest comparison (the new one, or the champion it beat)
    if decision != CHAMPION:
        client.set_registered_model_alias(name, CHALLENGER, version)
    elif replaced not in (None, version):
        client.set_registered_model_alias(name, CHALLENGER, replaced)
    elif replaced is None:  # the first champion is also the first challenger
        client.set_registered_model_alias(name, CHALLENGER, version)
    for key, value in {"promotion.decision": decision, "promotion.reason": reason,
                       "promotion.metric": config.promotion_metric}.items():
        client.set_model_version_tag(name, version, key, value)
    mlflow.set_tags({"tv_sales.model_name": name, "tv_sales.model_version": version,
                     "tv_sales.promotion": decision, "tv_sales.promotion_reason": reason})
    mlflow.log_metric("model_version", int(version))
    return version, reason


def decide(config, client, name, version, passed, evaluate_run, upstream):
    """``(alias, reason)``: whether ``version`` becomes champion, and why; scores are logged."""
    import mlflow

    metric = config.promotion_metric
    candidate = evaluate_run.data.metrics[f"test_{metric}"]
    mlflow.log_metric(f"candidate_{metric}", candidate)
    client.set_model_version_tag(name, version, "promotion.candidate_score", str(candidate))
    champion = alias_version(client, name, CHAMPION)
    if champion == version:
        return CHAMPION, "already the champion"
    if not passed:
        return CHALLENGER, "failed evaluation (registered by force); never promoted automatically"
    if champion is None:
        return CHAMPION, "first version to pass evaluation"
    if (evaluate_run.data.tags.get("tv_sales.champion_version") == champion
            and f"champion_{metric}" in evaluate_run.data.metrics):
        champion_score = evaluate_run.data.metrics[f"champion_{metric}"]  # scored by evaluate
    else:  # the champion changed since evaluate ran
        test_set = read_parquet_artifact(mlflow.get_run(upstream["train"]), "split/test.parquet")
        champion_score = score_on_test_split(f"models:/{name}/{champion}", test_set, config)
    mlflow.log_metric(f"champion_{metric}", champion_score)
    client.set_model_version_tag(name, version, "promotion.champion_score", str(champion_score))
    client.set_model_version_tag(name, version, "promotion.champion_version", champion)
    better, message = beats(config, candidate, champion_score)
    where = f"on the test split of train run {upstream['train']}"
    if better:
        return CHAMPION, f"{message} (version {champion}) {where}"
    return CHALLENGER, (f"{metric} {candidate:.4f} does not beat champion version {champion}'s "
                        f"{champion_score:.4f} {where}")


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
