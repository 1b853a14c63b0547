"""Move the champion alias by hand: promote a version, or roll back to the previous champion."""

import argparse

from steps.common import run_step
from steps.registry import CHAMPION, PREVIOUS, alias_version, registry_lock, set_champion
from tvsales.config import parse_bool
from tvsales.errors import PipelineError


def promote(config, version, rollback, force):
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.tracking.MlflowClient()
    name = config.model_name
    current = alias_version(client, name, CHAMPION)
    if rollback:
        if version:
            raise PipelineError("give either -P version=N or -P rollback=true, not both.")
        version = alias_version(client, name, PREVIOUS)
        if version is None:
            raise PipelineError(f"model '{name}' has no '{PREVIOUS}' version to roll back to.")
        reason = f"rollback from version {current}"
    else:
        if not version:
            raise PipelineError("parameter 'version' is required (or -P rollback=true).")
        reason = "promoted by hand"
    try:
        model_version = client.get_model_version(name, version)
    except MlflowException:
        raise PipelineError(f"model '{name}' has no version {version!r}; nothing was changed.") from None
    version = str(model_version.version)  # "01" names version 1
    if model_version.tags.get("evaluation") != "passed":
        if not force:
            raise PipelineError(
                f"version {version} of '{name}' did not pass evaluation; it was not promoted. "
                "Pass -P force=true to promote it anyway."
            )
        client.set_model_version_tag(name, version, "champion.forced", "true: promoted although "
                                     "evaluation failed")
        reason += ", forced although evaluation failed"
    if current == str(version):
        print(f"promote: version {version} is already the champion of '{name}'")
        return
    replaced = set_champion(client, name, version, reason)
    mlflow.set_tags({"tv_sales.model_name": name, "tv_sales.champion_from": replaced or "none",
                     "tv_sales.champion_to": str(version), "tv_sales.promotion_reason": reason})
    print(f"promote: '{name}' champion is now version {version} (was {replaced or 'none'}; "
          f"{PREVIOUS}: {replaced or 'none'})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--version", default="")
    parser.add_argument("--rollback", default="false")
    parser.add_argument("--force", default="false")
    args = parser.parse_args(argv)

    def work(config):
        with registry_lock(config.model_name):  # never while a pipeline's register moves aliases
            promote(config, args.version.strip(), parse_bool(args.rollback, "parameter 'rollback'"),
                    parse_bool(args.force, "parameter 'force'"))

    run_step("promote", work, params={"version": args.version, "rollback": args.rollback,
                                      "force": args.force})


if __name__ == "__main__":
    main()
