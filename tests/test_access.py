"""A tracking server's 401/403, as MLflow's client raises it, becomes one clear message."""

import pytest

from steps.access import AccessDenied, access_denied, access_errors, without_credentials
from tvsales.config import load_config


def refusal(endpoint, status=403):
    """The exception MLflow's REST client raises for a plain-text 401/403 answer."""
    from mlflow.exceptions import MlflowException, get_error_code

    return MlflowException(f"API request to endpoint {endpoint} failed with error code {status} != 200. "
                           "Response body: 'Permission denied'", error_code=get_error_code(status))


@pytest.fixture
def as_bob(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://bob:s3cret-pw@mlflow.example:5000")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "bob")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret-pw")
    return load_config()


@pytest.mark.parametrize("endpoint, resource", [
    ("/api/2.0/mlflow/runs/create", "experiment 'tv-sales'"),
    ("/api/2.0/mlflow/logged-models", "experiment 'tv-sales'"),
    ("/api/2.0/mlflow/model-versions/create", "registered model 'tv-sales-regressor'"),
    ("/api/2.0/mlflow/registered-models/alias", "registered model 'tv-sales-regressor'"),
])
def test_a_403_names_the_user_and_the_resource(as_bob, endpoint, resource):
    message = str(access_denied(refusal(endpoint), as_bob))
    assert message == (f"permission denied: the tracking server http://mlflow.example:5000 refused user 'bob' "
                       f"write access to {resource} (HTTP 403 on {endpoint}). Ask an MLflow admin for EDIT "
                       f"permission on {resource}.")
    assert "s3cret-pw" not in message


def test_a_401_says_the_credentials_were_not_accepted(as_bob):
    message = str(access_denied(refusal("/api/2.0/mlflow/runs/create", 401), as_bob))
    assert message.startswith("authentication failed: the tracking server http://mlflow.example:5000 "
                              "did not accept user 'bob'.")
    assert "MLFLOW_TRACKING_PASSWORD" in message and "s3cret-pw" not in message


def test_other_errors_pass_through_unchanged(as_bob):
    from mlflow.exceptions import MlflowException

    assert access_denied(MlflowException("no such run"), as_bob) is None
    assert access_denied(ValueError("x"), as_bob) is None
    with pytest.raises(MlflowException, match="no such run"):
        with access_errors(as_bob):
            raise MlflowException("no such run")
    with pytest.raises(AccessDenied, match="refused user 'bob'"):
        with access_errors(as_bob):
            raise refusal("/api/2.0/mlflow/runs/create")


def test_credentials_in_a_uri_are_not_shown():
    assert without_credentials("https://ann:pw@host:5000/x") == "https://host:5000/x"
    assert without_credentials("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
