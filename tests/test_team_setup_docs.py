"""The README's team setup runs what the service tests run: the same server options and auth settings."""

import re
import shlex

from conftest import REPO
from services import server_command
from test_auth import AUTH_CONFIG


def team_setup():
    text = (REPO / "README.md").read_text()
    start = text.index("## Team setup")
    return text[start:text.index("\n## ", start + 1)]


def server_commands():
    """Each `mlflow server ...` command of the section, as a list of words."""
    blocks = re.findall(r"```bash\n(.*?)```", team_setup(), re.S)
    lines = " ".join(blocks).replace("\\\n", " ").splitlines()
    return [shlex.split(line.split("#")[0]) for line in lines if line.strip().startswith("mlflow server")]


def options(words):
    return {word for word in words if word.startswith("--")}


def test_the_readme_starts_the_server_the_tests_start():
    commands = server_commands()
    assert len(commands) == 2  # without and with accounts
    tested = options(server_command("mlflow", "postgresql://u:p@127.0.0.1:5432/db", "/a", 5000))
    for command in commands:
        assert options(command) - {"--app-name"} == tested - {"--workers"}, command
        assert command[command.index("--backend-store-uri") + 1].startswith("postgresql://")
        assert command[command.index("--host") + 1] == "127.0.0.1"
    assert commands[1][commands[1].index("--app-name") + 1] == "basic-auth"


def test_the_readme_auth_settings_are_the_tested_ones():
    (ini,) = re.findall(r"<<'END'\n(.*?)\nEND", team_setup(), re.S)
    settings = dict(line.split(" = ", 1) for line in ini.splitlines()[1:])
    tested = dict(line.split(" = ", 1) for line in AUTH_CONFIG.strip().splitlines()[1:])
    assert settings.keys() == tested.keys()
    assert {k: v for k, v in settings.items() if k != "database_uri"} == \
        {k: v for k, v in tested.items() if k != "database_uri"}
    assert settings["database_uri"].startswith("sqlite:///") and tested["database_uri"].startswith("sqlite:///")
    for variable in ("MLFLOW_AUTH_CONFIG_PATH", "MLFLOW_AUTH_ADMIN_PASSWORD", "MLFLOW_FLASK_SERVER_SECRET_KEY",
                     "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        assert variable in team_setup(), variable
