"""Aliases of the registered model: who is champion, and every move recorded on the versions."""

import getpass
import os
from datetime import datetime, timezone

CHAMPION, CHALLENGER, PREVIOUS = "champion", "challenger", "previous-champion"


def alias_version(client, name, alias):
    """The version (a string) that holds ``alias``, or None."""
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def current_user():
    return os.environ.get("MLFLOW_TRACKING_USERNAME") or getpass.getuser()


def set_champion(client, name, version, reason):
    """Make ``version`` the champion; the one it replaces becomes ``previous-champion``.

    Records who, when, from which version and why as tags on the new champion.
    Returns the version it replaced (or None).
    """
    version = str(version)
    replaced = alias_version(client, name, CHAMPION)
    if replaced == version:
        return replaced
    if replaced is not None:
        client.set_registered_model_alias(name, PREVIOUS, replaced)
    client.set_registered_model_alias(name, CHAMPION, version)
    for key, value in {
        "champion.promoted_by": current_user(),
        "champion.promoted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "champion.promoted_from": replaced or "none",
        "champion.reason": reason,
    }.items():
        client.set_model_version_tag(name, version, key, value)
    return replaced


def score_on_test_split(model_uri, test_set, config):
    """The metric ``promotion.metric`` of the model at ``model_uri`` on ``test_set``."""
    import mlflow

    from tvsales.model import regression_metrics

    model = mlflow.pyfunc.load_model(model_uri)
    predicted = model.predict(test_set[[config.feature]])["prediction"]
    return regression_metrics(test_set[config.target], predicted)[config.promotion_metric]
