"""A tracking server's refusal (HTTP 401/403) as one message naming the user and the resource.

With ``mlflow server --app-name basic-auth``, MLflow answers a write the user may not make
with 403 and a wrong password with 401; its client raises them as MlflowException (or, for
proxied artifacts, requests' HTTPError). Inside ``access_errors`` they become an
AccessDenied, a PipelineError: printed as one message, never a traceback.
"""

import os
import re
from contextlib import contextmanager

from tvsales.errors import PipelineError


class AccessDenied(PipelineError):
    """The tracking server refused the user (HTTP 401 or 403)."""


def access_denied(error, config):
    """An AccessDenied for MLflow's 401/403 ``error`` (else None), naming the user and the resource.

    The resource follows from the refused endpoint: the registry's endpoints concern the
    registered model, every other one (runs, logged models, artifacts) the experiment.
    """
    response = getattr(error, "response", None)  # requests' HTTPError (proxied artifacts)
    status = getattr(response, "status_code", None)
    code = getattr(error, "error_code", None)    # MlflowException
    if code not in ("PERMISSION_DENIED", "UNAUTHENTICATED") and status not in (401, 403):
        return None
    import mlflow

    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    server = without_credentials(mlflow.get_tracking_uri())
    if code == "UNAUTHENTICATED" or status == 401:
        who = f"user '{user}'" if user else "no user (MLFLOW_TRACKING_USERNAME is not set)"
        return AccessDenied(
            f"authentication failed: the tracking server {server} did not accept {who}. "
            "Set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD to your MLflow account.")
    found = re.search(r"endpoint (\S+)", str(error))  # "API request to endpoint /api/... failed"
    if found:
        endpoint = found.group(1)
    elif response is not None:
        from urllib.parse import urlparse

        endpoint = urlparse(response.url).path
    else:
        endpoint = "a write"
    if "registered-models" in endpoint or "model-versions" in endpoint:
        resource = f"registered model '{config.model_name}'"
    else:
        resource = f"experiment '{config.experiment_name}'"
    who = f"user '{user}'" if user else "an anonymous user (MLFLOW_TRACKING_USERNAME is not set)"
    return AccessDenied(
        f"permission denied: the tracking server {server} refused {who} write access to {resource} "
        f"(HTTP 403 on {endpoint}). Ask an MLflow admin for EDIT permission on {resource}.")


@contextmanager
def access_errors(config):
    """Turn a tracking server's 401/403 inside the block into an AccessDenied."""
    try:
        yield
    except PipelineError:
        raise
    except Exception as error:
        denied = access_denied(error, config)
        if denied is None:
            raise
        raise denied from None


def without_credentials(uri):
    """``uri`` without a ``user:password@`` part, for messages."""
    return re.sub(r"//[^/@]*@", "//", str(uri))
