"""Step reuse against a real tracking store: exactly the steps whose inputs changed run again."""

import re

import pytest

from conftest import DATA, MODEL_NAME, explain

pytestmark = pytest.mark.slow

STEPS = ["ingest", "validate", "eda", "train", "evaluate", "register"]


def outcome(result):
    """``{step: 'reused' | 'finished' | 'failed'}`` from the driver's progress lines."""
    found = dict(re.findall(r"^\[\d/6\] (\w+) (reused|finished|failed)", result.stdout, re.M))
    return found


def ran(result):
    return sorted((step for step, what in outcome(result).items() if what != "reused"), key=STEPS.index)


@pytest.fixture(scope="module")
def cached(workspace):
    data = workspace.root / "data.csv"
    data.write_bytes(DATA.read_bytes())
    workspace.data = data
    first = workspace.mlflow_run("-P", f"data_path={data}")
    assert first.returncode == 0, explain(first)
    assert ran(first) == STEPS
    return workspace


def run(workspace, *params):
    result = workspace.mlflow_run("-P", f"data_path={workspace.data}", *params)
    assert result.returncode == 0, explain(result)
    return result


def versions(workspace):
    return len(workspace.client().search_model_versions(f"name = '{MODEL_NAME}'"))


def test_unchanged_rerun_reuses_every_step_and_registers_nothing(cached):
    result = run(cached)
    assert outcome(result) == {step: "reused" for step in STEPS}
    spelled = cached.mlflow_run("-P", f"data_path={cached.data.parent}/./{cached.data.name}")
    assert outcome(spelled) == {step: "reused" for step in STEPS}, spelled.stdout
    assert versions(cached) == 1
    assert re.search(r"^register\s+\w{32}\s+REUSED", result.stdout, re.M)
    client = cached.client()
    first, *later = client.search_runs(["1"], "tags.`tv_sales.step` = 'main'",
                                       order_by=["attributes.start_time ASC"])
    assert len(later) == 2
    for main in later:
        assert set(main.data.tags) >= {f"tv_sales.reused.{step}" for step in STEPS}
    # the business report is copied from a run that has it, not drawn again
    assert "tv_sales.report_copied_from" not in first.data.tags
    assert later[0].data.tags["tv_sales.report_copied_from"] == first.info.run_id
    assert later[1].data.tags["tv_sales.report_copied_from"] in {first.info.run_id, later[0].info.run_id}
    reports = {open(client.download_artifacts(run.info.run_id, "report/business_report.html",
                                              str(cached.root / run.info.run_id))).read()
               for run in (first, *later)}
    assert len(reports) == 1 and "tv-sales-regressor version 1" in reports.pop()


def test_a_train_parameter_reruns_train_evaluate_register_only(cached):
    assert ran(run(cached, "-P", "random_state=7")) == ["train", "evaluate", "register"]
    (main, *_) = cached.client().search_runs(["1"], "tags.`tv_sales.step` = 'main'",
                                             order_by=["attributes.start_time DESC"])
    assert "tv_sales.report_copied_from" not in main.data.tags  # a new model: a new report
    assert main.data.tags["tv_sales.report_key"]
    # the same value written otherwise is the same key
    assert ran(run(cached, "-P", "random_state=7.0")) == []
    assert ran(run(cached, "-P", "test_size=2e-1")) == ["train", "evaluate", "register"]
    assert ran(run(cached, "-P", "test_size=0.20")) == []


def test_editing_eda_code_reruns_eda_only(cached):
    for name in ("steps/eda.py", "tvsales/eda_plots.py"):
        path = cached.project / name
        path.write_text(path.read_text() + "\n# edited\n")
        assert ran(run(cached)) == ["eda"], name


def test_one_changed_byte_of_data_reruns_everything(cached):
    text = cached.data.read_text()
    cached.data.write_text(text.replace("230.1,22.1", "230.1,22.2", 1))
    assert ran(run(cached)) == STEPS


def test_use_cache_false_reruns_everything(cached):
    assert ran(run(cached, "-P", "use_cache=false")) == STEPS


def test_failed_runs_are_never_reused(cached):
    bad = cached.root / "bad.csv"
    bad.write_text(cached.data.read_text().replace("44.5,10.4", "44.5,abc", 1))
    for attempt in range(2):
        result = cached.mlflow_run("-P", f"data_path={bad}")
        assert result.returncode != 0
        expected = {"ingest": "finished" if attempt == 0 else "reused", "validate": "failed"}
        assert outcome(result) == expected, result.stdout


def test_runs_of_another_experiment_are_not_reused(cached):
    result = cached.mlflow_run("--experiment-name", "elsewhere", "-P", f"data_path={cached.data}")
    assert result.returncode == 0, explain(result)
    assert ran(result) == STEPS


def test_killed_and_unfinished_runs_are_never_reused(cached):
    client = cached.client()
    finished = client.search_runs(["1"], "tags.`tv_sales.step` = 'train' and attributes.status = 'FINISHED'",
                                  order_by=["attributes.start_time DESC"])
    key = finished[0].data.tags["tv_sales.cache_key"]
    for run_ in finished:  # the finished runs with this key no longer match it
        if run_.data.tags["tv_sales.cache_key"] == key:
            client.set_tag(run_.info.run_id, "tv_sales.cache_key", "stale")
    tags = {"tv_sales.step": "train", "tv_sales.cache_key": key}
    running = client.create_run("1", tags=tags)
    killed = client.create_run("1", tags=tags)
    client.set_terminated(killed.info.run_id, "KILLED")

    result = run(cached)
    assert ran(result) == ["train", "evaluate", "register"]
    assert running.info.run_id not in result.stdout and killed.info.run_id not in result.stdout
    client.set_terminated(running.info.run_id, "FAILED")


def test_runs_of_another_tracking_store_are_not_reused(cached):
    own_store = cached.tracking_uri
    cached.tracking_uri = f"sqlite:///{cached.root / 'other.db'}"
    try:
        assert ran(run(cached)) == STEPS
    finally:
        cached.tracking_uri = own_store
    assert ran(run(cached)) == []  # the first store's runs are still there, and reused
