"""Step 4, train: split the validated table, fit a linear regression, log the model and the split."""

import argparse
import tempfile

from steps.common import log_figure, log_table, read_parquet_artifact, run_step, tag_lineage, upstream_run

# The packages the model needs to be loaded and served; given explicitly so that
# MLflow does not infer them in a subprocess (slow) on every run.
MODEL_PACKAGES = ("mlflow", "scikit-learn", "skops", "scipy", "numpy", "pandas")


def model_requirements():
    from importlib.metadata import version

    return [f"{package}=={version(package)}" for package in MODEL_PACKAGES]


def log_model(regressor, summary, input_example, config):
    """Log the served model: tvsales/serving.py as code, the regressor in skops format beside it."""
    import mlflow
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    from tvsales.config import PROJECT_DIR

    with tempfile.TemporaryDirectory() as tmp:
        regressor_dir = f"{tmp}/regressor"
        mlflow.sklearn.save_model(regressor, regressor_dir, serialization_format="skops",
                                  pip_requirements=model_requirements())
        signature = ModelSignature(
            inputs=Schema([ColSpec("double", config.feature)]),
            outputs=Schema([ColSpec("double", name) for name in ("prediction", "lower", "upper")]),
            params=ParamSchema([ParamSpec("interval_level", "double", config.interval_level)]),
        )
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PROJECT_DIR / "tvsales" / "serving.py"),
            artifacts={"regressor": regressor_dir},
            code_paths=[str(PROJECT_DIR / "tvsales")],
            model_config={
                "feature": config.feature,
                "interval_level": config.interval_level,
                "summary": summary,
            },
            signature=signature,
            input_example=input_example,
            pip_requirements=model_requirements(),
        )


def train(config, validate_run_id):
    import mlflow

    from tvsales import model_plots as plots
    from tvsales.intervals import ols_summary, slope_interval
    from tvsales.model import regression_metrics, split_data, train_model

    validate_run = upstream_run(validate_run_id, "validate", "validate_run_id")
    tag_lineage(validate_run)
    # the validated table is let go once split: the step holds the two splits, not three tables
    train_set, test_set = split_data(read_parquet_artifact(validate_run, "data/validated.parquet"),
                                     config.test_size, config.random_state)
    model = train_model(train_set, config.feature, config.target)
    intercept, slope = float(model.intercept_), float(model.coef_[0])
    fitted = model.predict(train_set[[config.feature]])
    mlflow.log_metrics({
        "intercept": intercept,
        "slope": slope,
        "n_train": len(train_set),
        "n_test": len(test_set),
        **{f"train_{name}": value
           for name, value in regression_metrics(train_set[config.target], fitted).items()},
    })
    summary = ols_summary(train_set[config.feature], train_set[config.target])
    low, high = slope_interval(summary, config.interval_level)
    mlflow.log_metrics({"slope_ci_low": low, "slope_ci_high": high, "residual_sigma": summary["sigma"],
                        "train_x_mean": summary["x_mean"], "train_x_sxx": summary["sxx"]})
    mlflow.log_param("interval_level", config.interval_level)
    log_table(train_set, "split/train.parquet")
    log_table(test_set, "split/test.parquet")
    log_figure(plots.fitted_line(train_set, test_set, config.feature, config.target, intercept, slope),
               "plots/fitted_line.png")
    model_info = log_model(model, summary, train_set[[config.feature]].head(3), config)
    mlflow.set_tag("tv_sales.model_uri", model_info.model_uri)
    print(f"train: {config.target} = {intercept:.4f} + {slope:.6f} * {config.feature} "
          f"on {len(train_set)} rows; model {model_info.model_uri}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--validate-run-id", required=True)
    parser.add_argument("--test-size", default="", help="default: config.yaml split.test_size")
    parser.add_argument("--random-state", default="", help="default: config.yaml split.random_state")
    args = parser.parse_args(argv)
    run_step("train", lambda config: train(config, args.validate_run_id),
             params={"validate_run_id": args.validate_run_id},
             overrides={"test_size": args.test_size, "random_state": args.random_state})


if __name__ == "__main__":
    main()
