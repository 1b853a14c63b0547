"""Bad input through the real entry points: each kind of data file through `mlflow run . -e ingest`
then `-e validate`, files to score through `-e predict`, bad parameters through each step alone.

Every refusal must be one message naming the file (or parameter), a non-zero exit, no traceback,
the run FAILED with its report logged, and the registry unchanged; every accepted file must give
exactly the numbers it was written from.
"""

import json
import re
import socket
import time
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest

from bad_inputs import CASES, TV, expected_table
from conftest import DATA, EXPERIMENT, FACTS, MODEL_NAME, explain

pytestmark = pytest.mark.slow


@contextmanager
def data_settings(workspace, **settings):
    """The workspace's config.yaml with some ``data.*`` settings changed, for the duration."""
    path = workspace.project / "config.yaml"
    original = path.read_text()
    text = original
    for key, value in settings.items():
        text, count = re.subn(rf"^(  {key}: )\S+", lambda m: m.group(1) + json.dumps(value), text,
                              flags=re.M)
        assert count == 1, key
    path.write_text(text)
    try:
        yield
    finally:
        path.write_text(original)


def logged_only_its_card(client, run):
    """A refused step logs nothing but its step card (card/<step>.html), which says why."""
    return [artifact.path for artifact in client.list_artifacts(run.info.run_id)] in ([], ["card"])


def registry(client):
    """The registered versions and aliases: what no refusal may change."""
    versions = sorted(int(v.version) for v in client.search_model_versions(f"name = '{MODEL_NAME}'"))
    return versions, dict(client.get_registered_model(MODEL_NAME).aliases)


def step_runs(client, step, **params):
    """Runs of ``step`` in the pipeline's experiment with these parameters, newest first."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    query = " and ".join([f"tags.`tv_sales.step` = '{step}'"]
                         + [f"params.{key} = '{value}'" for key, value in params.items()])
    return client.search_runs([experiment.experiment_id], query, order_by=["attributes.start_time DESC"])


def artifact(workspace, run, path):
    import mlflow

    return mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path=path,
                                               tracking_uri=workspace.tracking_uri)


def assert_refused(result, fragment):
    output = result.stdout + result.stderr
    assert result.returncode == 1, explain(result)
    assert fragment in result.stderr, explain(result)
    assert "Traceback" not in output, explain(result)


@pytest.fixture(scope="module")
def store(workspace):
    """A registered model that no refusal may change: the whole pipeline on the real data saved as a
    European spreadsheet would (semicolons, decimal commas), read with data.decimal ','."""
    path = workspace.root / "tvmarketing_semicolons.csv"
    path.write_text(DATA.read_text().replace(",", ";").replace(".", ","))
    with data_settings(workspace, decimal=","):
        result = workspace.mlflow_run("-P", f"data_path={path}")
    assert result.returncode == 0, explain(result)
    client = workspace.client()
    runs = {step: step_runs(client, step)[0] for step in ("ingest", "validate", "eda", "train", "evaluate")}
    assert registry(client) == ([1], {"champion": 1, "challenger": 1})
    return {"client": client, "runs": runs, "path": path}


def test_semicolons_and_decimal_commas_go_through_the_whole_pipeline(workspace, store):
    metrics = store["runs"]["eda"].data.metrics
    assert metrics["tv_total"] == pytest.approx(FACTS["tv_total"])
    assert metrics["sales_total"] == pytest.approx(FACTS["sales_total"])
    assert metrics["correlation"] == pytest.approx(FACTS["correlation"], abs=5e-6)
    validated = pd.read_parquet(artifact(workspace, store["runs"]["validate"], "data/validated.parquet"))
    np.testing.assert_array_equal(validated.to_numpy(), pd.read_csv(DATA).to_numpy(dtype="float64"))


CASES_END_TO_END = [case for case in CASES if case.end_to_end]


@pytest.mark.parametrize("case", CASES_END_TO_END, ids=[case.name for case in CASES_END_TO_END])
def test_each_kind_of_file_through_ingest_and_validate(workspace, store, case):
    client = store["client"]
    before = registry(client)
    path = workspace.root / "files" / case.filename
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(case.content)
    with data_settings(workspace, **case.settings):
        ingest = workspace.mlflow_run("-e", "ingest", "-P", f"data_path={path}")
        assert ingest.returncode == 0, explain(ingest)
        (ingest_run,) = step_runs(client, "ingest", data_path=path)
        result = workspace.mlflow_run("-e", "validate", "-P", f"ingest_run_id={ingest_run.info.run_id}")
    (run,) = step_runs(client, "validate", ingest_run_id=ingest_run.info.run_id)
    report = json.loads(open(artifact(workspace, run, "validation/report.json")).read())
    if case.fragment is None:
        assert result.returncode == 0, explain(result)
        assert run.info.status == "FINISHED" and report["passed"] is True
        validated = pd.read_parquet(artifact(workspace, run, "data/validated.parquet"))
        tv, sales = expected_table(case)
        assert list(validated.dtypes) == [np.float64, np.float64]
        np.testing.assert_array_equal(validated["TV"].to_numpy(), tv)
        np.testing.assert_array_equal(validated["Sales"].to_numpy(), sales)
        assert validated["TV"].sum() == pytest.approx(sum(tv))
        if case.note:
            assert any(case.note in note for note in report["notes"]), report["notes"]
            assert case.note in result.stdout
    else:
        assert_refused(result, case.fragment)
        assert f"validate failed: {path}: the data failed validation" in result.stderr
        assert result.stderr.count(case.fragment) == 1  # one message, said once
        assert run.info.status == "FAILED" and case.fragment in run.data.tags["tv_sales.error"]
        assert report["passed"] is False
        assert any(problem["check"] == case.check and case.fragment in problem["message"]
                   for problem in report["problems"]), report["problems"]
        assert [a.path for a in client.list_artifacts(run.info.run_id, "data")] == []
    assert registry(client) == before


def test_data_from_a_runs_uri_is_downloaded_and_read(workspace, store):
    client = store["client"]
    uri = f"runs:/{store['runs']['ingest'].info.run_id}/data/raw/{store['path'].name}"
    with data_settings(workspace, decimal=","):
        ingest = workspace.mlflow_run("-e", "ingest", "-P", f"data_path={uri}")
        assert ingest.returncode == 0, explain(ingest)
        (ingest_run,) = step_runs(client, "ingest", data_path=uri)
        result = workspace.mlflow_run("-e", "validate", "-P", f"ingest_run_id={ingest_run.info.run_id}")
    assert result.returncode == 0, explain(result)
    (run,) = step_runs(client, "validate", ingest_run_id=ingest_run.info.run_id)
    validated = pd.read_parquet(artifact(workspace, run, "data/validated.parquet"))
    np.testing.assert_array_equal(validated.to_numpy(), pd.read_csv(DATA).to_numpy(dtype="float64"))
    assert run.data.tags["tv_sales.data_source"] == uri


@pytest.fixture(scope="module")
def silent_server():
    """An HTTP address that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"http://127.0.0.1:{server.getsockname()[1]}/data.csv"


SOURCES = [
    ("path that does not exist", lambda root, url: root / "nowhere.csv", "no such file"),
    ("directory", lambda root, url: root, "this is a directory, not a file"),
    ("URL whose host does not resolve", lambda root, url: "http://tv-sales.invalid/data.csv",
     "cannot be downloaded"),
    ("URL of a server that never answers", lambda root, url: url, "cannot be downloaded: timed out"),
    ("s3 URI without the S3 client installed", lambda root, url: "s3://tv-sales-nowhere/data.csv",
     "this URI needs the Python package"),
]


@pytest.mark.parametrize("source", SOURCES, ids=[source[0] for source in SOURCES])
def test_a_source_that_cannot_be_read_stops_ingest_within_seconds(workspace, store, silent_server,
                                                                  source):
    _, make, fragment = source
    client = store["client"]
    before = registry(client)
    data_path = str(make(workspace.root, silent_server))
    began = time.monotonic()
    result = workspace.mlflow_run("-e", "ingest", "-P", f"data_path={data_path}")
    assert time.monotonic() - began < 60  # the HTTP time-out is 10 s; start-up takes the rest
    assert_refused(result, f"ingest failed: {data_path}")
    assert fragment in result.stderr, explain(result)
    (run,) = step_runs(client, "ingest", data_path=data_path)
    assert run.info.status == "FAILED" and fragment in run.data.tags["tv_sales.error"]
    assert logged_only_its_card(client, run)
    assert registry(client) == before


def test_a_missing_data_file_stops_the_pipeline_before_any_step(workspace, store):
    client = store["client"]
    before = (registry(client), len(step_runs(client, "ingest")))
    missing = workspace.root / "nowhere.csv"
    result = workspace.mlflow_run("-P", f"data_path={missing}")
    assert_refused(result, f"pipeline not started: {missing}: no such file")
    assert (registry(client), len(step_runs(client, "ingest"))) == before


def test_predict_reads_its_file_like_validate(workspace, store):
    client = store["client"]
    before = registry(client)
    budgets = workspace.root / "budgets.csv"
    budgets.write_text("region;TV\r\n" + "".join(f"r{i};{str(tv).replace('.', ',')}\r\n"
                                                 for i, tv in enumerate(TV[:5])) + "\r\n")
    with data_settings(workspace, decimal=","):
        result = workspace.mlflow_run("-e", "predict", "-P", f"input_path={budgets}")
    assert result.returncode == 0, explain(result)
    (run,) = step_runs(client, "predict", input_path=budgets)
    out = pd.read_csv(artifact(workspace, run, "predictions/predictions.csv"))
    train = store["runs"]["train"].data.metrics
    assert out["region"].tolist() == [f"r{i}" for i in range(5)]
    expected = train["intercept"] + train["slope"] * np.array(TV[:5])
    assert out["prediction"].to_numpy() == pytest.approx(expected)
    assert registry(client) == before


@pytest.mark.parametrize("content, fragment", [
    ("TV;x\n230,1;1\n", "column 'TV': value is not a number in row 1 ('230,1'). A comma inside a number"),
    ("TV\n100\n$250\n", "column 'TV': value is not a number in row 2 ('$250'). A currency symbol"),
])
def test_predict_refuses_a_file_it_cannot_read_right(workspace, store, content, fragment):
    client = store["client"]
    before = registry(client)
    budgets = workspace.root / f"bad_budgets_{len(content)}.csv"
    budgets.write_text(content)
    result = workspace.mlflow_run("-e", "predict", "-P", f"input_path={budgets}")
    assert_refused(result, f"predict failed: {budgets}: cannot be scored")
    assert fragment in result.stderr
    (run,) = step_runs(client, "predict", input_path=budgets)
    assert run.info.status == "FAILED" and logged_only_its_card(client, run)
    assert registry(client) == before


RUN_ID = "0123456789abcdef0123456789abcdef"
PARAMETERS = [  # (entry point, parameters, message); {step} stands for that step's run ID
    ("train", {"test_size": "2"},
     "train failed: parameter 'test_size' must be a fraction strictly between 0 and 1 (e.g. 0.33), got '2'."),
    ("train", {"test_size": "abc"}, "train failed: parameter 'test_size' must be a number, got 'abc'."),
    ("train", {"random_state": "-1"},
     "train failed: parameter 'random_state' must be an integer from 0 to 2**32 - 1 (e.g. 42), got '-1'."),
    ("train", {"random_state": "1.5"}, "parameter 'random_state' must be an integer from 0 to 2**32 - 1"),
    ("train", {"validate_run_id": RUN_ID},
     f"train failed: parameter 'validate_run_id': no run with ID '{RUN_ID}' in the tracking store"),
    ("train", {"validate_run_id": "{ingest}"},
     "train failed: parameter 'validate_run_id': run {ingest} is a run of step 'ingest'; expected a run of "
     "step 'validate'."),
    ("evaluate", {"train_run_id": "{validate}"},
     "evaluate failed: parameter 'train_run_id': run {validate} is a run of step 'validate'; expected a "
     "run of step 'train'."),
    ("main", {"test_size": "1.5"}, "pipeline not started: parameter 'test_size' must be a fraction"),
    ("predict", {"model_uri": "models:/no-such-model@champion"},
     "predict failed: model URI 'models:/no-such-model@champion': no such registered model version or "
     "alias."),
    ("predict", {"model_uri": f"models:/{MODEL_NAME}@nobody"},
     f"model URI 'models:/{MODEL_NAME}@nobody': no such registered model version or alias."),
    ("promote", {"version": "7"},
     f"promote failed: model '{MODEL_NAME}' has no version '7'; nothing was changed."),
]


@pytest.mark.parametrize("entry_point, parameters, message", PARAMETERS,
                         ids=[f"{e} {' '.join(f'{k}={v}' for k, v in p.items())}" for e, p, _ in PARAMETERS])
def test_a_bad_parameter_is_refused_before_any_work(workspace, store, entry_point, parameters, message):
    client = store["client"]
    ids = {step: run.info.run_id for step, run in store["runs"].items()}
    budgets = workspace.root / "budgets_ok.csv"
    budgets.write_text("TV\n100\n")
    defaults = {"train": {"validate_run_id": "{validate}"}, "predict": {"input_path": str(budgets)}}
    given = {**defaults.get(entry_point, {}), **parameters}
    experiment = client.get_experiment_by_name(EXPERIMENT).experiment_id
    runs_before = {run.info.run_id for run in client.search_runs([experiment])}
    before = registry(client)
    arguments = [item for key, value in given.items() for item in ("-P", f"{key}={value.format(**ids)}")]
    result = workspace.mlflow_run("-e", entry_point, *arguments)
    message = message.format(**ids)
    assert_refused(result, message)
    assert result.stderr.count(message) == 1
    assert registry(client) == before
    new = [run for run in client.search_runs([experiment]) if run.info.run_id not in runs_before]
    for run in new:  # a step that started its run stops at the check: FAILED, nothing logged
        assert run.info.status == "FAILED"
        assert message.split(" failed: ", 1)[-1] in run.data.tags["tv_sales.error"]
        assert logged_only_its_card(client, run)
        assert set(run.data.metrics) == set()


def test_the_same_value_written_differently_runs_the_same(workspace, store):
    client = store["client"]
    validate_id = store["runs"]["validate"].info.run_id
    # the first run is the one `mlflow run` started, which already holds the values as typed
    for chosen, test_size, seed in ((["--experiment-name", EXPERIMENT], "0.20", "7.0"), ([], "2e-1", "07")):
        result = workspace.mlflow_run(*chosen, "-e", "train", "-P", f"validate_run_id={validate_id}",
                                      "-P", f"test_size={test_size}", "-P", f"random_state={seed}")
        assert result.returncode == 0, explain(result)
        assert "Changing param values is not allowed" not in result.stderr
    runs = step_runs(client, "train", validate_run_id=validate_id)[:2]
    assert [run.info.status for run in runs] == ["FINISHED"] * 2
    assert [run.data.metrics["n_test"] for run in runs] == [40, 40]  # 0.2 of 200 rows
    assert runs[0].data.metrics["slope"] == runs[1].data.metrics["slope"]
    tests = [pd.read_parquet(artifact(workspace, run, "split/test.parquet")) for run in runs]
    assert tests[0].equals(tests[1])
    given = runs[1]  # newest first
    assert (given.data.params["test_size"], given.data.params["random_state"]) == ("0.20", "7.0")
    assert (given.data.tags["tv_sales.param.test_size"], given.data.tags["tv_sales.param.random_state"]) \
        == ("0.2", "7")
    assert (runs[0].data.params["test_size"], runs[0].data.params["random_state"]) == ("0.2", "7")

    before = registry(client)
    with data_settings(workspace, decimal=","):
        again = workspace.mlflow_run("--experiment-name", EXPERIMENT, "-P", f"data_path={store['path']}",
                                     "-P", "test_size=3.3e-1", "-P", "random_state=42.0")
    assert again.returncode == 0, explain(again)
    assert "Changing param values is not allowed" not in again.stderr
    assert len(re.findall(r"^\[\d/6\] \w+ reused", again.stdout, re.M)) == 6, again.stdout
    assert registry(client) == before
