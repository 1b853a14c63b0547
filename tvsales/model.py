"""Split, fit and score the one-variable linear model."""

from tvsales.data import varies
from tvsales.errors import PipelineError

METRIC_NAMES = ("mae", "mape", "r2", "rmse")


def split_data(table, test_size, random_state):
    """Shuffle and split ``table`` into ``(train, test)`` DataFrames.

    The same rows as scikit-learn's ``train_test_split(table, test_size=test_size,
    random_state=random_state)`` (a test checks it), without importing
    ``sklearn.model_selection``, which costs the train step a second of start-up.
    """
    import math

    import numpy as np

    n_test = math.ceil(test_size * len(table))
    if n_test < 2 or len(table) - n_test < 3:
        raise PipelineError(
            f"test_size {test_size} splits {len(table)} rows into {len(table) - n_test} training and "
            f"{n_test} test rows; at least 3 training and 2 test rows are needed."
        )
    order = np.random.RandomState(random_state).permutation(len(table))
    return table.iloc[order[n_test:]], table.iloc[order[:n_test]]


def train_model(train, feature, target):
    """Fit ``target ~ feature`` by ordinary least squares; returns a LinearRegression.

    Refuses a training split whose ``feature`` takes a single value: no slope can be fitted.
    """
    from sklearn.linear_model import LinearRegression

    if not varies(train[feature]):
        raise PipelineError(
            f"column '{feature}' has the same value ({train[feature].iloc[0]:g}) in all {len(train)} "
            "training rows of this split; no slope can be fitted. Use data whose values vary more, "
            "or another random_state or test_size."
        )
    return LinearRegression().fit(train[[feature]], train[target])


def regression_metrics(y_true, y_pred):
    """MAE, MAPE (a fraction: 0.18 means 18 %), R² and RMSE of ``y_pred`` against ``y_true``."""
    from sklearn import metrics

    return {
        "mae": float(metrics.mean_absolute_error(y_true, y_pred)),
        "mape": float(metrics.mean_absolute_percentage_error(y_true, y_pred)),
        "r2": float(metrics.r2_score(y_true, y_pred)),
        "rmse": float(metrics.root_mean_squared_error(y_true, y_pred)),
    }


def check_thresholds(test_metrics, min_r2, max_mape):
    """Return ``(passed, failures)``: failures lists each threshold the metrics miss."""
    failures = []
    if not test_metrics["r2"] >= min_r2:
        failures.append(f"R² {test_metrics['r2']:.4f} is below the minimum {min_r2}")
    if not test_metrics["mape"] <= max_mape:
        failures.append(f"MAPE {test_metrics['mape']:.4f} is above the maximum {max_mape}")
    return not failures, failures
