"""Online serving: a real `mlflow models serve` of the champion on 127.0.0.1, real HTTP requests."""

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request

import numpy as np
import pandas as pd
import pytest

from conftest import MODEL_NAME, explain
from processes import answers, free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(workspace):
    result = workspace.mlflow_run()
    assert result.returncode == 0, explain(result)
    port = free_port()
    log = open(workspace.root / "serve.log", "w")
    process = subprocess.Popen(
        [workspace.mlflow_bin, "models", "serve", "-m", f"models:/{MODEL_NAME}@champion",
         "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
        cwd=workspace.root, env=workspace.env(), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    if not answers(f"{url}/ping", process):
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("the scoring server did not start:\n" + (workspace.root / "serve.log").read_text())
    client = workspace.client()
    train_run = client.get_run(client.get_model_version_by_alias(MODEL_NAME, "champion").run_id)
    yield {"url": url, "train_run": train_run}
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def post(server, body, content_type="application/json"):
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    request = urllib.request.Request(f"{server['url']}/invocations", data=data,
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def expected(server, tv):
    metrics = server["train_run"].data.metrics
    return metrics["intercept"] + metrics["slope"] * np.asarray(tv, dtype=float)


@pytest.mark.parametrize("body, content_type, tv", [
    ({"dataframe_split": {"columns": ["TV"], "data": [[100.0], [250.5]]}}, "application/json", [100, 250.5]),
    ({"dataframe_records": [{"TV": 100}, {"TV": 0}]}, "application/json", [100, 0]),
    ({"inputs": {"TV": [17, 42.5]}}, "application/json", [17, 42.5]),
    ("TV\n100\n296\n", "text/csv", [100, 296]),
], ids=["dataframe_split", "dataframe_records-integers", "inputs", "csv"])
def test_documented_formats_get_the_models_predictions(server, body, content_type, tv):
    status, answer = post(server, body, content_type)
    assert status == 200, answer
    predictions = pd.DataFrame(answer["predictions"])
    assert predictions["prediction"].to_numpy() == pytest.approx(expected(server, tv))
    assert (predictions["lower"] < predictions["prediction"]).all()
    assert (predictions["prediction"] < predictions["upper"]).all()


def test_interval_level_can_be_asked_for(server):
    body = {"dataframe_split": {"columns": ["TV"], "data": [[100.0]]}}
    _, default = post(server, body)
    _, narrow = post(server, {**body, "params": {"interval_level": 0.5}})
    width = lambda answer: answer["predictions"][0]["upper"] - answer["predictions"][0]["lower"]  # noqa: E731
    assert width(narrow) < width(default)


@pytest.mark.parametrize("body, fragment", [
    ('{"dataframe_records": [{"budget": 100}]}', "missing inputs ['TV']"),
    ('{"dataframe_records": [{"tv": 100}]}', "missing inputs ['TV']"),
    ('{"dataframe_records": [{"TV": "abc"}]}', "column TV"),
    ('{"dataframe_records": [{"TV": null}]}', "column 'TV': missing value in row(s) 1"),
    ('{"dataframe_records": [{"TV": 5}, {"TV": NaN}]}', "column 'TV': missing value in row(s) 2"),
    ('{"dataframe_records": [{"TV": Infinity}]}', "column 'TV': value is not finite in row 1"),
    ('{"dataframe_records": [{"TV": 1e400}]}', "column 'TV': value is not finite in row 1"),
    ('{"dataframe_records": [{"TV": -5}]}', "column 'TV': value is negative in row 1"),
    ('{"inputs": {"TV": [100, -1]}}', "value is negative in row 2"),
], ids=["missing", "misspelled", "string", "null", "nan", "infinity", "1e400", "negative", "inputs-negative"])
def test_bad_requests_get_a_4xx_naming_the_problem(server, body, fragment):
    status, answer = post(server, body)
    assert 400 <= status < 500, answer
    assert "predictions" not in answer
    assert fragment in answer["message"], answer["message"]
