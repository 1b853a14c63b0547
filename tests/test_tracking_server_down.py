"""A tracking server that does not answer: a clear message within a bound (README, "A tracking server that is down").

The bound asserted here (60 s) is generous on purpose: it is the behaviour "seconds, not
MLflow's minutes of retries" that is tested, not the speed of this machine.
"""

import subprocess
import sys
import time

import pytest

from processes import free_port, start_mlflow_run, start_tracking_server

pytestmark = pytest.mark.slow

BOUND = 60  # seconds; README: about 5 s at start, about 25 s for a server that stops mid-pipeline
# Workspace.env() drops every MLFLOW_ variable of the caller's environment: unless a test sets
# MLFLOW_HTTP_REQUEST_*, MLflow's own defaults (7 retries over about 4 minutes) are in force.


def test_the_driver_refuses_to_start_against_a_down_server(workspace):
    """What `mlflow run` starts, `python -m steps.main`, checks the server before anything else."""
    uri = f"http://127.0.0.1:{free_port()}"
    env = {**workspace.env(), "MLFLOW_TRACKING_URI": uri}
    began = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "steps.main"], cwd=workspace.project, env=env,
                            capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - began
    assert result.returncode == 1
    assert seconds < BOUND
    assert (f"pipeline not started: the tracking server {uri} does not answer ([Errno 111] Connection "
            "refused). Start it, or set MLFLOW_TRACKING_URI to a tracking server that runs.") in result.stderr
    assert "Traceback" not in result.stderr


def test_mlflow_run_with_bounded_retries_reports_a_down_server(workspace):
    """`mlflow run` itself (MLflow's code) asks the server first; README says how to bound it."""
    uri = f"http://127.0.0.1:{free_port()}"
    began = time.monotonic()
    result = subprocess.run([workspace.mlflow_bin, "run", ".", "--env-manager", "local"],
                            cwd=workspace.project, capture_output=True, text=True, timeout=600,
                            env={**workspace.env(), "MLFLOW_TRACKING_URI": uri,
                                 "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})
    assert time.monotonic() - began < BOUND
    assert result.returncode != 0
    assert f"API request to {uri}/api/2.0/mlflow/runs/create failed" in result.stderr
    assert "Connection refused" in result.stderr


def test_a_server_that_stops_mid_pipeline_stops_it_with_a_clear_message(workspace):
    """Driver and steps use bounded retries unless the user set MLflow's; the message comes in seconds."""
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    server = start_tracking_server(workspace, port)
    pipeline = None
    try:
        pipeline = start_mlflow_run(workspace, MLFLOW_TRACKING_URI=uri)
        pipeline.wait_for_line("[2/6] validate ...", timeout=600)
        server.stop()
        stopped = time.monotonic() - pipeline.started
        message = f"pipeline failed: the tracking server {uri} does not answer ([Errno 111] Connection refused)"
        at = pipeline.wait_for_line(message, timeout=300)
        assert at - stopped < BOUND
        assert "Traceback" not in pipeline.output.split(message)[0].split("[2/6] validate ...")[1]
    finally:
        server.stop()
        if pipeline is not None:
            # `mlflow run` itself (MLflow's defaults) retries marking its run for minutes more
            pipeline.stop()
