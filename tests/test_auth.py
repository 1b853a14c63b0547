"""Accounts and permissions: a real `mlflow server --app-name basic-auth` on 127.0.0.1.

The team setup of the README: the admin creates the experiment and the registered model
and grants each user a permission on both; every user may write to the Default experiment,
where `mlflow run` puts its launcher run before any code of the pipeline runs. A user with
READ can run nothing that writes, and is told so in one message naming the user and the
resource; a user with EDIT can. Credentials come from MLFLOW_TRACKING_USERNAME and
MLFLOW_TRACKING_PASSWORD, and no password is ever written anywhere.
"""

import secrets
from pathlib import Path

import pytest

from conftest import EXPERIMENT, MODEL_NAME, explain
from services import MlflowServer, ServerWorkspace

pytestmark = pytest.mark.slow

AUTH_CONFIG = """[mlflow]
default_permission = READ
database_uri = sqlite:///{database}
admin_username = admin
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
auth_cache_ttl_seconds = 60
"""
# user -> (permission on the experiment, permission on the registered model)
USERS = {"tv-editor": ("EDIT", "EDIT"), "tv-reader": ("READ", "READ"), "tv-modeler": ("EDIT", "READ")}


@pytest.fixture(scope="module")
def team(tmp_path_factory, mlflow_bin):
    import mlflow
    from mlflow.server import get_app_client

    root = tmp_path_factory.mktemp("auth")
    server = MlflowServer(root / "server", mlflow_bin, auth=AUTH_CONFIG)
    passwords = {"admin": server.admin_password}
    with pytest.MonkeyPatch.context() as patch:
        # this process is the admin
        patch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        patch.setenv("MLFLOW_TRACKING_PASSWORD", server.admin_password)
        patch.setenv("MLFLOW_TRACKING_URI", server.url)
        try:
            client = mlflow.MlflowClient(server.url)
            experiment_id = client.create_experiment(EXPERIMENT)
            client.create_registered_model(MODEL_NAME)
            auth = get_app_client("basic-auth", tracking_uri=server.url)
            for user, (on_experiment, on_model) in USERS.items():
                passwords[user] = f"pw-{user}-{secrets.token_urlsafe(12)}"
                auth.create_user(user, passwords[user])
                auth.grant_user_permission(user, "experiment", experiment_id, on_experiment)
                auth.grant_user_permission(user, "registered_model", MODEL_NAME, on_model)
                auth.grant_user_permission(user, "experiment", "0", "EDIT")  # launcher runs
            (root / "client").mkdir()
            workspace = ServerWorkspace(root / "client", mlflow_bin, server)
            yield {"server": server, "workspace": workspace, "client": client, "passwords": passwords,
                   "experiment_id": experiment_id, "results": []}
        finally:
            server.stop()


def run_as(team, user, *args):
    workspace = team["workspace"]
    with workspace.as_user(user, team["passwords"][user]):
        result = workspace.mlflow_run(*args)
    team["results"].append(result)
    return result


def state(team):
    """What a refused user must not change: the runs of the experiment, the versions, the aliases."""
    client = team["client"]
    runs = client.search_runs([team["experiment_id"]], max_results=1000)
    versions = client.search_model_versions(f"name = '{MODEL_NAME}'")
    aliases = client.get_registered_model(MODEL_NAME).aliases
    return ({run.info.run_id: run.info.status for run in runs},
            sorted(str(version.version) for version in versions), aliases)


@pytest.fixture(scope="module")
def editor_pipeline(team):
    result = run_as(team, "tv-editor", "-P", "test_size=0.33")
    assert result.returncode == 0, explain(result) + "\n--- server log ---\n" + team["server"].log_text()[-3000:]
    client = team["client"]
    evaluate = client.search_runs([team["experiment_id"]], "tags.`tv_sales.step` = 'evaluate'")
    return {"result": result, "evaluate_run_id": evaluate[0].info.run_id}


def test_an_editor_runs_the_pipeline(team, editor_pipeline):
    assert "registered model: tv-sales-regressor version 1, aliases: challenger, champion" in \
        editor_pipeline["result"].stdout
    version = team["client"].get_model_version(MODEL_NAME, "1")
    assert version.tags["champion.promoted_by"] == "tv-editor"  # who, by name: never a password


def refused(team, result, user, resource):
    """``result`` is a refusal: one message naming the user and the resource, no traceback."""
    assert result.returncode != 0, explain(result)
    message = f"permission denied: the tracking server {team['server'].url} refused user '{user}' " \
              f"write access to {resource}"
    assert message in result.stderr, explain(result)
    assert "Traceback" not in result.stderr, explain(result)
    assert f"Ask an MLflow admin for EDIT permission on {resource}." in result.stderr


@pytest.mark.parametrize("args", [
    ("-P", "test_size=0.33"),
    ("-e", "register", "-P", "evaluate_run_id={evaluate_run_id}"),
    ("-e", "promote", "-P", "version=1"),
    ("-e", "promote", "-P", "rollback=true"),
    ("-e", "predict", "-P", "input_path=data/tvmarketing.csv"),
], ids=["pipeline", "register", "promote", "rollback", "predict"])
def test_a_reader_can_run_nothing_that_writes(team, editor_pipeline, args):
    args = [arg.format(evaluate_run_id=editor_pipeline["evaluate_run_id"]) for arg in args]
    before = state(team)
    result = run_as(team, "tv-reader", *args)
    refused(team, result, "tv-reader", f"experiment '{EXPERIMENT}'")
    assert state(team) == before


def test_edit_on_the_experiment_but_read_on_the_model_stops_at_register(team, editor_pipeline):
    before_versions = state(team)[1:]
    result = run_as(team, "tv-modeler", "-P", "random_state=7")
    refused(team, result, "tv-modeler", f"registered model '{MODEL_NAME}'")
    assert "pipeline failed at step 'register'" in result.stderr
    assert state(team)[1:] == before_versions  # no version, no alias moved
    client = team["client"]
    (register,) = client.search_runs([team["experiment_id"]],
                                     "tags.`tv_sales.step` = 'register' and attributes.status = 'FAILED'")
    assert "refused user 'tv-modeler' write access to registered model" in register.data.tags["tv_sales.error"]
    card = client.download_artifacts(register.info.run_id, "card/register.html")
    assert "permission denied" in Path(card).read_text()


def test_an_editor_registers_and_promotes(team, editor_pipeline):
    client = team["client"]
    # train and evaluate of the refused pipeline are reused: only register runs again
    result = run_as(team, "tv-editor", "-P", "random_state=7")
    assert result.returncode == 0, explain(result)
    assert "[6/6] register finished" in result.stdout and "[4/6] train reused" in result.stdout
    assert "registered model: tv-sales-regressor version 2" in result.stdout
    champion = str(client.get_model_version_by_alias(MODEL_NAME, "champion").version)
    other = "1" if champion == "2" else "2"
    promoted = run_as(team, "tv-editor", "-e", "promote", "-P", f"version={other}")
    assert promoted.returncode == 0, explain(promoted)
    assert str(client.get_model_version_by_alias(MODEL_NAME, "champion").version) == other
    back = run_as(team, "tv-editor", "-e", "promote", "-P", "rollback=true")
    assert back.returncode == 0, explain(back)
    assert str(client.get_model_version_by_alias(MODEL_NAME, "champion").version) == champion


def everything_written(team, tmp_path):
    """``{where: text}`` of all the pipeline wrote or printed: logs, params, tags, metrics, artifacts."""
    import mlflow

    client = team["client"]
    written = {}
    for number, result in enumerate(team["results"]):
        written[f"output {number}: {' '.join(result.args[2:])}"] = result.stdout + result.stderr
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    for run in client.search_runs(experiments, max_results=1000):
        run_id = run.info.run_id
        written[f"run {run_id} params"] = repr(run.data.params)
        written[f"run {run_id} metrics"] = repr(run.data.metrics)
        for key, value in run.data.tags.items():
            written[f"run {run_id} tag {key}"] = f"{key}={value}"
        local = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / run_id)))
        for path in local.rglob("*"):
            if path.is_file():
                written[f"run {run_id} artifact {path.relative_to(local)}"] = path.read_bytes().decode(
                    "utf-8", errors="replace")
    for version in client.search_model_versions(f"name = '{MODEL_NAME}'"):
        full = client.get_model_version(MODEL_NAME, version.version)
        for key, value in full.tags.items():
            written[f"version {version.version} tag {key}"] = f"{key}={value}"
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{MODEL_NAME}/{version.version}",
                                                         dst_path=str(tmp_path / f"v{version.version}")))
        for path in local.rglob("*"):
            if path.is_file():
                written[f"version {version.version} file {path.relative_to(local)}"] = path.read_bytes().decode(
                    "utf-8", errors="replace")
    return written


# where a user's name belongs: who ran it, who promoted, and the refusal that names the user
# (printed, tagged on the refused run and shown on its step card and its pipeline's index card)
USERNAME_ALLOWED = ("tag mlflow.user", "tag champion.promoted_by", "tag tv_sales.error", "output ",
                    "artifact card/")


def test_no_password_is_written_anywhere_and_names_only_where_they_belong(team, editor_pipeline, tmp_path):
    assert len(team["results"]) >= 9  # every command of this module, refused ones included
    written = everything_written(team, tmp_path)
    assert any("artifact card/" in where for where in written)  # the search reached the cards
    assert any("pipeline/summary.json" in where for where in written)
    for user, password in team["passwords"].items():
        leaks = [where for where, text in written.items() if password in text]
        assert leaks == [], f"the password of {user} was written to {leaks}"
    for user in USERS:
        misplaced = [where for where, text in written.items()
                     if user in text and not any(allowed in where for allowed in USERNAME_ALLOWED)]
        assert misplaced == [], f"the name {user!r} appears in {misplaced}"
