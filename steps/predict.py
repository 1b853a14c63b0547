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


def predict(config, input_path, model_uri, interval_level, output_path=""):
    import mlflow
    import pandas as pd

    from steps.ingest import fetch
    from tvsales.data import input_values, read_table

    model_uri = model_uri or f"models:/{config.model_name}@champion"
    level = parse_test_size(interval_level, "parameter 'interval_level'") if interval_level \
        else config.interval_level
    if output_path and not config.spark_master:
        raise PipelineError("parameter 'output_path' is where the Spark path writes its predictions; set "
                            "spark_master too, or leave output_path empty: without Spark the predictions "
                            "are logged on the run.")
    client = mlflow.tracking.MlflowClient()
    version = resolve_model(client, model_uri)  # an unknown model or alias stops here, before any work
    if config.spark_master:
        n_rows, written = predict_on_spark(config, input_path, model_uri, level, output_path)
        return record(model_uri, level, version, n_rows, written)
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
    record(model_uri, level, version, len(result), f"predictions/{out.name}")


def record(model_uri, level, version, n_rows, written):
    """Log what was scored with which model, and say so."""
    import mlflow

    mlflow.log_params({"resolved_model_uri": model_uri, "interval_level_used": level})
    mlflow.log_metric("n_rows", n_rows)
    mlflow.set_tags({"tv_sales.model_uri": model_uri, "tv_sales.predictions": written,
                     **{f"tv_sales.model_{key}": value for key, value in version.items()}})
    which = f"{version['name']} version {version['version']}" if version else model_uri
    print(f"predict: {n_rows} rows scored with {which}; {written} with {level:.0%} prediction intervals")


# Locations Spark reads and writes itself; any other input is a local path or a URI MLflow downloads.
SPARK_SCHEMES = ("hdfs:", "s3a:", "gs:", "abfs:", "abfss:", "wasb:", "wasbs:", "dbfs:", "file:")
SCORES = "__tv_sales_scores"


def predict_on_spark(config, input_path, model_uri, level, output_path):
    """Score the input on Spark with ``mlflow.pyfunc.spark_udf``; write Parquet.

    Returns ``(n_rows, where)``: the predictions go to ``output_path`` when given (any location
    Spark writes: a cluster needs one), else to the run's artifact predictions/predictions.parquet
    (a directory of Parquet part files).
    """
    import tempfile

    import mlflow

    from steps.ingest import fetch
    from tvsales import spark as on_spark

    master = config.spark_master
    if not output_path and not on_spark.is_local(master):
        raise PipelineError(f"parameter 'output_path' is needed with spark_master {master!r}: a location "
                            "every Spark executor can write (hdfs://..., s3a://..., a shared directory).")
    if input_path.lower().startswith(SPARK_SCHEMES):
        location, source = input_path, input_path
    else:
        location, source = fetch(input_path)
        if not location.exists():
            raise PipelineError(f"{source}: no such file; check input_path.")
    if output_path and not output_path.lower().startswith(SPARK_SCHEMES) and Path(output_path).exists():
        raise PipelineError(f"output_path {output_path!r} exists; predictions are never written over "
                            "earlier ones. Name a new location, or remove that one first.")
    mlflow.set_tag("tv_sales.spark_master", master)
    spark = on_spark.start_session(master)  # says so when pyspark is not installed
    from pyspark.errors import PySparkException
    from pyspark.sql import functions as F

    try:
        frame = on_spark.read_input(spark, location, source, config.separator, config.decimal)
        frame, n_rows = on_spark.checked_input(frame, config.feature, config.decimal, source)
        try:
            score = mlflow.pyfunc.spark_udf(spark, model_uri, env_manager="local",
                                            params={"interval_level": level})
        except (mlflow.exceptions.MlflowException, OSError) as error:
            raise PipelineError(f"model URI {model_uri!r} cannot be loaded: {error}") from None
        kept = [F.col(f"`{name}`") for name in frame.columns if name != on_spark.VALUE_COLUMN]
        scores = score(F.struct(F.col(on_spark.VALUE_COLUMN).alias(config.feature)))
        result = frame.withColumn(SCORES, scores).select(
            *kept, *[F.col(f"{SCORES}.{name}").alias(name) for name in ("prediction", "lower", "upper")])
        with tempfile.TemporaryDirectory() as tmp:
            target = output_path or f"{tmp}/predictions.parquet"
            try:
                result.write.mode("errorifexists").parquet(target)
            except PySparkException as error:
                raise PipelineError(f"output_path {target!r}: Spark cannot write there: "
                                    f"{str(error).splitlines()[0]}") from None
            if not output_path:
                mlflow.log_artifacts(target, "predictions/predictions.parquet")
    finally:
        spark.stop()
    return n_rows, output_path or "predictions/predictions.parquet"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input-path", required=True)
    parser.add_argument("--model-uri", default="")
    parser.add_argument("--interval-level", default="")
    parser.add_argument("--spark-master", default="", help="default: config.yaml prediction.spark_master")
    parser.add_argument("--output-path", default="", help="where the Spark path writes its Parquet output")
    args = parser.parse_args(argv)
    run_step("predict", lambda config: predict(config, args.input_path.strip(), args.model_uri.strip(),
                                               args.interval_level.strip(), args.output_path.strip()),
             params={"input_path": args.input_path, "model_uri": args.model_uri,
                     "interval_level": args.interval_level, "output_path": args.output_path},
             overrides={"spark_master": args.spark_master})


if __name__ == "__main__":
    main()
