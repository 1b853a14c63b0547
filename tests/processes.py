"""Processes the slow tests start in the background and watch: `mlflow run`, `mlflow server`."""

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path


def free_port():
    """A TCP port of 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url, process, timeout=180):
    """Wait until ``url`` answers HTTP 200: True, or False once ``process`` exits or ``timeout`` s pass."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def wait_until(condition, timeout, what, explain=lambda: ""):
    """Poll ``condition()`` until it is true; an AssertionError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{explain()}")
        time.sleep(0.2)


def child_pids(pid):
    """The processes whose parent is ``pid`` (Linux /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


class Background:
    """A command started in a session of its own, as a terminal starts a job; output collected.

    Being a session (and process group) leader, it can be sent Ctrl-C the way a terminal
    does: ``os.killpg(pid, SIGINT)``.
    """

    def __init__(self, command, cwd, env):
        self.started = time.monotonic()
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines = []  # (seconds since start, line)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append((time.monotonic() - self.started, line))

    @property
    def output(self):
        return "".join(line for _, line in self.lines)

    def seen(self, text):
        """Seconds since start at which a line containing ``text`` appeared, or None."""
        return next((at for at, line in self.lines if text in line), None)

    def wait_for_line(self, text, timeout):
        wait_until(lambda: self.seen(text) is not None or not self.reader.is_alive(), timeout,
                   f"a line with {text!r}", lambda: self.output[-6000:])
        assert self.seen(text) is not None, f"exited without printing {text!r}:\n{self.output[-6000:]}"
        return self.seen(text)

    def wait(self, timeout):
        """Wait until the process has exited and every process holding its output closed it."""
        self.process.wait(timeout=timeout)
        self.reader.join(timeout=timeout)
        assert not self.reader.is_alive(), f"output still open {timeout} s later:\n{self.output[-6000:]}"
        return self.process.returncode

    def stop(self):
        """Clean-up: SIGKILL whatever is left of its process group."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


def start_mlflow_run(workspace, *args, **env):
    """`mlflow run . --env-manager local <args>` in the workspace, in the background.

    ``env`` adds to (or replaces) the workspace's environment variables.
    """
    command = [workspace.mlflow_bin, "run", ".", "--env-manager", "local", *args]
    return Background(command, workspace.project, {**workspace.env(), **env})


def start_tracking_server(workspace, port):
    """A real `mlflow server` on 127.0.0.1:``port`` with its own SQLite store; waits until it answers."""
    root = workspace.root / f"server-{port}"
    root.mkdir()
    server = Background(
        [workspace.mlflow_bin, "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--default-artifact-root", str(root / "artifacts"), "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1"],
        root, workspace.env())

    def answers():
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
        except OSError:
            return False
        return True

    wait_until(lambda: answers() or server.process.poll() is not None, 120, "mlflow server",
               lambda: server.output[-4000:])
    assert answers(), server.output[-4000:]
    return server
