"""Aliases of the registered model: who is champion, and every move recorded on the versions."""

import contextlib
import getpass
import hashlib
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

CHAMPION, CHALLENGER, PREVIOUS = "champion", "challenger", "previous-champion"
ALIASES = (CHAMPION, CHALLENGER, PREVIOUS)


@contextlib.contextmanager
def registry_lock(name):
    """Hold an exclusive lock on registered model ``name`` of this registry while the block runs.

    Two pipelines that register at the same moment would otherwise both read "no champion"
    (or the same champion) and both move the aliases. The lock is a file lock in the
    temporary directory, keyed by the registry URI and the model name: it serialises the
    processes of one machine (an SQLite store, a local server), not several machines.
    Without ``fcntl`` (Windows) there is no lock.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    import mlflow

    uri = mlflow.get_registry_uri()
    if uri.startswith("sqlite:///"):  # one database file, however its path is spelled
        uri = "sqlite:///" + str(Path(uri[len("sqlite:///"):]).resolve())
    key = hashlib.sha256(f"{uri}\0{name}".encode()).hexdigest()[:20]
    with open(Path(tempfile.gettempdir()) / f"tv-sales-registry-{key}.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another pipeline to finish changing model '{name}'...",
                  file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def aliases_of(client, name):
    """``{alias: version or None}`` for the aliases this pipeline manages."""
    return {alias: alias_version(client, name, alias) for alias in ALIASES}


def restore(client, name, aliases, register_run_id):
    """Put the aliases back as ``aliases_of`` saw them; delete the versions ``register_run_id`` created.

    Undoes a registration that was interrupted or failed midway (every version register
    creates is tagged with its run ID). MLflow does not reuse a deleted version's number.
    """
    for alias, version in aliases.items():
        if version is not None:
            client.set_registered_model_alias(name, alias, version)
        elif alias_version(client, name, alias) is not None:
            client.delete_registered_model_alias(name, alias)
    for created in client.search_model_versions(
            f"name = '{name}' and tags.register_run_id = '{register_run_id}'"):
        client.delete_model_version(name, created.version)


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
