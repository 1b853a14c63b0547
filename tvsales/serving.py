"""The model that is registered and served: checks every request, then predicts with an interval.

Logged as MLflow "models from code": this file is the model's code and the fitted
scikit-learn regressor is stored beside it in skops format, so loading the model
unpickles nothing. ``model_config`` carries the column name, the training summary
the intervals need, and the default interval level.
"""

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


def RequestError(message):
    """The error for a request the model refuses; the scoring server answers it with HTTP 400."""
    return mlflow.exceptions.MlflowException.invalid_parameter_value(message)


def check_request(table, feature):
    """Raise RequestError naming every bad value of ``feature`` in ``table``; else return floats."""
    from tvsales.data import check_values

    if feature not in table.columns:
        raise RequestError(f"the request has no column '{feature}'; it has {list(table.columns)}.")
    values, found = check_values(table[feature], feature)
    problems = [message for _, rows, message in found if rows]
    if problems:
        raise RequestError("invalid input: " + " ".join(problems))
    return values.to_numpy()


class TVSalesModel(PythonModel):
    """Predicted sales with the lower and upper bounds of a prediction interval."""

    def load_context(self, context):
        import mlflow.sklearn

        self.regressor = mlflow.sklearn.load_model(context.artifacts["regressor"])
        self.config = dict(context.model_config)

    def predict(self, context, model_input: pd.DataFrame, params=None):
        from tvsales.intervals import prediction_interval

        feature = self.config["feature"]
        spend = check_request(pd.DataFrame(model_input), feature)
        given = (params or {}).get("interval_level")
        level = float(self.config["interval_level"] if given is None else given)
        if not 0 < level < 1:
            raise RequestError(f"interval_level must be between 0 and 1, got {level}.")
        prediction = self.regressor.predict(pd.DataFrame({feature: spend}))
        lower, upper = prediction_interval(self.config["summary"], spend, level)
        return pd.DataFrame({"prediction": prediction, "lower": lower, "upper": upper})


mlflow.models.set_model(TVSalesModel())
