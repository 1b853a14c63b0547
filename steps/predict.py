"""Batch prediction: score a CSV or Parquet file of TV budgets with a registered model."""

import argparse
import tempfile
from pathlib import Path

from steps.common import run_step
from tvsales.config import parse_test_size
from tvsales.errors import PipelineError


def resolve_model(client, model_uri):
    """``{name, version, run_id}`` of a ``models:/name@alias`` or ``models:/name/N`` URI (else empty)."""
    from mlflow.exceptions import MlflowException

    if not model_uri.startswith("models:/"):
        return {}
    reference = model_uri[len("models:/"):]
    try:
        if "@" in reference:
            name, alias = reference.split("@", 1)
            found = client.get_model_version_by_alias(name, alias)
        elif "/" in reference and reference.split("/", 1)[1].lower() == "latest":
            name = reference.split("/", 1)[0]
            found = max(client.search_model_versions(f"name = '{name}'"), key=lambda v: int(v.version))
        elif "/" in reference:
            name, number = reference.split("/", 1)
            found = client.get_model_version(name, number)
        else:
            raise PipelineError(f"model URI {model_uri!r} names no version: use "
                                f"models:/{reference}@champion or models:/{reference}/<version>.")
    except (MlflowException, ValueError):
        raise PipelineError(f"model URI {model_uri!r}: no such registered model version or alias.") from None
    return {"name": found.name, "version": str(found.version), "run_id": found.run_id or ""}


def predict(config, input_path, model_uri, interval_level):
    import mlflow
    import pandas as pd

    from steps.ingest import fetch
    from tvsales.data import input_values, read_table

    model_uri = model_uri or f"models:/{config.model_name}@champion"
    level = parse_test_size(interval_level, "parameter 'interval_level'") if interval_level \
        else config.interval_level
    client = mlflow.tracking.MlflowClient()
    version = resolve_model(client, model_uri)  # an unknown model or alias stops here, before any work
    path, source = fetch(input_path)
    table = read_table(path, source, config.separator, config.decimal)
    clashing = [column for column in ("prediction", "lower", "upper")
                if column in [str(name).strip() for name in table.columns]]
    if clashing:
        raise PipelineError(f"{source}: column(s) {clashing} would be overwritten by the predictions; "
                            "rename them.")
    table, spend = input_values(table, config.feature, config.decimal, source)
    try:
        model = mlflow.pyfunc.load_model(model_uri)
    except (mlflow.exceptions.MlflowException, OSError) as error:
        raise PipelineError(f"model URI {model_uri!r} cannot be loaded: {error}") from None
    predictions = model.predict(pd.DataFrame({config.feature: spend}),
                                params={"interval_level": level})
    result = table.join(predictions)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / ("predictions.parquet" if path.suffix.lower() in {".parquet", ".pq"}
                           else "predictions.csv")
        result.to_parquet(out, index=False) if out.suffix == ".parquet" else result.to_csv(out, index=False)
        mlflow.log_artifact(str(out), "predictions")
    mlflow.log_params({"resolved_model_uri": model_uri, "interval_level_used": level})
    mlflow.log_metric("n_rows", len(result))
    mlflow.set_tags({"tv_sales.model_uri": model_uri,
                     **{f"tv_sales.model_{key}": value for key, value in version.items()}})
    which = f"{version['name']} version {version['version']}" if version else model_uri
    print(f"predict: {len(result)} rows scored with {which}; predictions/{out.name} "
          f"with {level:.0%} prediction intervals")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input-path", required=True)
    parser.add_argument("--model-uri", default="")
    parser.add_argument("--interval-level", default="")
    args = parser.parse_args(argv)
    run_step("predict", lambda config: predict(config, args.input_path.strip(), args.model_uri.strip(),
                                               args.interval_level.strip()),
             params={"input_path": args.input_path, "model_uri": args.model_uri,
                     "interval_level": args.interval_level})


if __name__ == "__main__":
    main()
