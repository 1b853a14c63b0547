"""Shared fixtures: the seed data's facts, a clean copy of the project, real `mlflow run` calls."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data" / "tvmarketing.csv"
EXPERIMENT = "tv-sales"
MODEL_NAME = "tv-sales-regressor"

# Facts of data/tvmarketing.csv, from ../shared/data/README.md (computed independently of this code).
FACTS = {
    "n_rows": 200,
    "tv_total": 29408.5, "tv_mean": 147.0425, "tv_min": 0.7, "tv_max": 296.4,
    "sales_total": 2804.5, "sales_mean": 14.0225, "sales_min": 1.6, "sales_max": 27.0,
    "correlation": 0.78222,
    "intercept_all_rows": 7.03259, "slope_all_rows": 0.0475366, "r2_all_rows": 0.61188,
    "sha256": "d2e933efe50b95b8c976c2789dfa1d7b521abc47f09a8d10b13f9cc8c9960a6b",
}


def copy_project(target):
    """Copy the project's files (what git tracks or would track) to ``target``, like a fresh clone."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="session")
def mlflow_bin():
    """The `mlflow` command of the Python running the tests."""
    candidate = Path(sys.executable).parent / "mlflow"
    return str(candidate) if candidate.exists() else shutil.which("mlflow")


class Workspace:
    """A copy of the project with its own tracking store, and a way to run `mlflow run` in it."""

    def __init__(self, root, mlflow_bin):
        self.root = root
        self.project = copy_project(root / "project")
        self.tracking_uri = f"sqlite:///{root / 'mlflow.db'}"
        self.mlflow_bin = mlflow_bin

    def env(self, **extra):
        env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
        # telemetry off: on a machine without network its attempts cost every process seconds
        env.update(MLFLOW_TRACKING_URI=self.tracking_uri, PYTHONUNBUFFERED="1",
                   MLFLOW_DISABLE_TELEMETRY="true", **extra)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        return env

    def mlflow_run(self, *args, env_manager="local", timeout=900):
        """`mlflow run . --env-manager <m> <args>` in the project copy; returns CompletedProcess."""
        command = [self.mlflow_bin, "run", ".", "--env-manager", env_manager, *args]
        return subprocess.run(command, cwd=self.project, env=self.env(), capture_output=True,
                              text=True, timeout=timeout)

    def client(self):
        from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, mlflow_bin):
    return Workspace(tmp_path_factory.mktemp("ws"), mlflow_bin)


def explain(result):
    """Output of a finished process, for assertion messages."""
    return f"exit {result.returncode}\n--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
