"""Real services for the tests: `mlflow server` on 127.0.0.1, a fresh PostgreSQL database, Chromium.

Each test module starts what it needs in a module-scoped fixture and stops it after (the
server in its own process group, so nothing is left running).
"""

import os
import secrets
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import Workspace
from processes import answers, free_port

POSTGRES_ENV = "TV_SALES_POSTGRES_URI"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"  # screenshots (gitignored)


def server_command(mlflow_bin, backend_uri, artifacts, port):
    """The `mlflow server` command of the README's team setup, on 127.0.0.1 with one worker."""
    return [mlflow_bin, "server", "--backend-store-uri", backend_uri, "--artifacts-destination",
            str(artifacts), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]


class MlflowServer:
    """`mlflow server` on 127.0.0.1 with proxied artifacts, in ``root`` (its stores and its log).

    ``backend_uri``: the backend store (default: SQLite in ``root``). ``auth``: the text of
    a basic-auth config file; the server then runs ``--app-name basic-auth`` with admin
    ``admin`` and the password ``admin_password``.
    """

    def __init__(self, root, mlflow_bin, backend_uri=None, auth=None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.artifacts = self.root / "artifacts"
        self.backend_uri = backend_uri or f"sqlite:///{self.root / 'mlflow.db'}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.root / "server.log"
        self.admin_password = secrets.token_urlsafe(16)
        command = server_command(mlflow_bin, self.backend_uri, self.artifacts, self.port)
        env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
        # no server-side job runner: the pipeline uses none, and it costs seven processes
        env.update(MLFLOW_DISABLE_TELEMETRY="true", PYTHONUNBUFFERED="1", MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        if auth is not None:
            config = self.root / "basic_auth.ini"
            config.write_text(auth.format(database=self.root / "basic_auth.db"))
            command += ["--app-name", "basic-auth"]
            env.update(MLFLOW_AUTH_CONFIG_PATH=str(config), MLFLOW_AUTH_ADMIN_PASSWORD=self.admin_password,
                       MLFLOW_FLASK_SERVER_SECRET_KEY=secrets.token_hex(16))
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, cwd=self.root, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_until_up()

    def _wait_until_up(self):
        if not answers(f"{self.url}/health", self.process):
            self.stop()
            pytest.fail(f"mlflow server did not start on {self.url}:\n{self.log_text()[-5000:]}")

    def log_text(self):
        return self.log_path.read_text(errors="replace")

    def stop(self):
        """Stop the server and every process it started (its whole process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        try:  # workers that outlived the main process
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.log.close()


class ServerWorkspace(Workspace):
    """A project copy whose `mlflow run` calls log to a tracking server, as ``user`` if given."""

    def __init__(self, root, mlflow_bin, server):
        super().__init__(root, mlflow_bin)
        self.server = server
        self.tracking_uri = server.url
        self.credentials = {}

    def env(self, **extra):
        return super().env(**self.credentials, **extra)

    @contextmanager
    def as_user(self, username, password):
        """`mlflow run` calls inside the block authenticate as ``username``."""
        before = self.credentials
        self.credentials = {"MLFLOW_TRACKING_USERNAME": username, "MLFLOW_TRACKING_PASSWORD": password}
        try:
            yield self
        finally:
            self.credentials = before


def postgres_uri():
    """The PostgreSQL URI the tests may create databases with; a clear failure when there is none."""
    uri = os.environ.get(POSTGRES_ENV)
    if not uri:
        pytest.fail(f"these tests need PostgreSQL and {POSTGRES_ENV} is not set. Start one with "
                    f"`eval \"$(bash .ci/postgres start)\"` (after `apt-get install postgresql`); "
                    "it exports the URI. CI's .ci/run does this.", pytrace=False)
    return uri


@contextmanager
def postgres_database():
    """A new, empty PostgreSQL database (dropped afterwards); yields its URI."""
    import psycopg
    from psycopg import sql

    uri = postgres_uri()
    try:
        admin = psycopg.connect(uri, connect_timeout=10, autocommit=True)
    except psycopg.OperationalError as error:
        pytest.fail(f"cannot connect to PostgreSQL at {POSTGRES_ENV} ({_hide_password(uri)}): {str(error).strip()}. "
                    "Is it running? `bash .ci/postgres start` starts it.", pytrace=False)
    name = f"tv_sales_test_{secrets.token_hex(4)}"
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = uri.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


def _hide_password(uri):
    import re

    return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", uri)


@contextmanager
def chromium_page(width=1400, height=900):
    """A page of Debian's Chromium, headless, through Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (CI's .ci/run does).", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()
