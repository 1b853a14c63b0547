"""A team's setup: the pipeline, promote and predict against a real `mlflow server` on 127.0.0.1.

The server proxies artifacts (``--artifacts-destination``): clients only speak HTTP to it.
Its backend store is SQLite, then PostgreSQL (a fresh database of the server that
``.ci/postgres`` starts; without it the PostgreSQL tests fail, saying so). Each backend
gets two pipelines (the second with another ``random_state``), then promote, rollback,
batch prediction, the step cards and the MLflow UI in headless Chromium.
"""

import json
import re
from contextlib import ExitStack

import numpy as np
import pandas as pd
import pytest

from conftest import EXPERIMENT, FACTS, MODEL_NAME, explain
from services import OUTPUT, MlflowServer, ServerWorkspace, chromium_page, postgres_database

pytestmark = pytest.mark.slow

STEPS = ["ingest", "validate", "eda", "train", "evaluate", "register"]
FIGURES = {"ingest": 0, "validate": 0, "eda": 3, "train": 1, "evaluate": 2, "register": 0}


def step_runs(client, main):
    """``{step: run}`` of the six runs a pipeline run used: its children and the runs it reused."""
    runs = {run.data.tags["tv_sales.step"]: run
            for run in client.search_runs([main.info.experiment_id],
                                          f"tags.mlflow.parentRunId = '{main.info.run_id}'")}
    for step in STEPS:
        reused = main.data.tags.get(f"tv_sales.reused.{step}")
        if reused:
            runs[step] = client.get_run(reused)
    return runs


def download(workspace, run_id, path):
    import mlflow

    return mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path,
                                               tracking_uri=workspace.tracking_uri)


def aliases(client):
    return {alias: str(version) for alias, version in client.get_registered_model(MODEL_NAME).aliases.items()}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def team(request, tmp_path_factory, mlflow_bin):
    """A server with the given backend, and two pipelines run against it."""
    backend = request.param
    root = tmp_path_factory.mktemp(f"team-{backend}")
    with ExitStack() as stack:
        database = stack.enter_context(postgres_database()) if backend == "postgresql" else None
        server = MlflowServer(root / "server", mlflow_bin, database)
        stack.callback(server.stop)
        (root / "client").mkdir()
        workspace = ServerWorkspace(root / "client", mlflow_bin, server)
        first = workspace.mlflow_run("-P", "test_size=0.33")
        assert first.returncode == 0, explain(first) + "\n--- server log ---\n" + server.log_text()[-3000:]
        second = workspace.mlflow_run("-P", "random_state=7")
        assert second.returncode == 0, explain(second) + "\n--- server log ---\n" + server.log_text()[-3000:]
        client = workspace.client()
        experiment = client.get_experiment_by_name(EXPERIMENT)
        mains = client.search_runs([experiment.experiment_id], "tags.`tv_sales.step` = 'main'",
                                   order_by=["attributes.start_time ASC"])
        assert len(mains) == 2
        yield {"backend": backend, "database": database, "server": server, "workspace": workspace,
               "client": client, "experiment": experiment, "results": (first, second), "mains": mains,
               "steps": [step_runs(client, main) for main in mains]}


def test_both_pipelines_finish_with_six_step_runs(team):
    first, second = team["results"]
    assert "registered model: tv-sales-regressor version 1, aliases: challenger, champion" in first.stdout
    assert "registered model: tv-sales-regressor version 2" in second.stdout
    for main, steps in zip(team["mains"], team["steps"]):
        assert main.info.status == "FINISHED"
        assert sorted(steps) == sorted(STEPS)
        assert all(run.info.status == "FINISHED" for run in steps.values())
    # the second pipeline changed only random_state: it reused the data steps of the first
    first_steps, second_steps = team["steps"]
    for step in ("ingest", "validate", "eda"):
        assert second_steps[step].info.run_id == first_steps[step].info.run_id, step
    for step in ("train", "evaluate", "register"):
        assert second_steps[step].info.run_id != first_steps[step].info.run_id, step
    assert second_steps["train"].data.params["random_state"] == "7"
    assert first_steps["ingest"].data.tags["tv_sales.data_sha256"] == FACTS["sha256"]


def test_the_runs_are_in_the_backend_store_asked_for(team):
    client = team["client"]
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    n_runs = len(client.search_runs(experiments, max_results=1000))
    query = "SELECT count(*) FROM runs"
    if team["backend"] == "postgresql":
        import psycopg

        with psycopg.connect(team["database"]) as connection, connection.cursor() as cursor:
            cursor.execute(query)
            (stored,) = cursor.fetchone()
            cursor.execute("SELECT name, version FROM model_versions ORDER BY version")
            versions = cursor.fetchall()
    else:
        import sqlite3

        with sqlite3.connect(team["server"].backend_uri[len("sqlite:///"):]) as connection:
            (stored,) = connection.execute(query).fetchone()
            versions = connection.execute("SELECT name, version FROM model_versions ORDER BY version").fetchall()
    # first pipeline: launcher, driver, six steps; second: launcher, driver, three new steps
    assert stored == n_runs == 8 + 5
    assert versions == [(MODEL_NAME, 1), (MODEL_NAME, 2)]


def test_artifacts_go_through_the_server_only(team):
    server, workspace = team["server"], team["workspace"]
    assert team["experiment"].artifact_location.startswith("mlflow-artifacts:")
    for steps in team["steps"]:
        for step, run in steps.items():
            assert run.info.artifact_uri.startswith("mlflow-artifacts:"), (step, run.info.artifact_uri)
            stored = server.artifacts / team["experiment"].experiment_id / run.info.run_id / "artifacts"
            assert (stored / "card" / f"{step}.html").is_file(), step
    eda = team["steps"][0]["eda"]
    stored = server.artifacts / team["experiment"].experiment_id / eda.info.run_id / "artifacts" / "eda"
    assert sorted(path.name for path in stored.glob("*.png")) == [
        "correlation_heatmap.png", "distributions.png", "scatter.png"]
    # nothing of the stores on the client's side
    leftovers = [path for path in workspace.root.rglob("*")
                 if path.name in {"mlruns", "mlartifacts", "mlflow.db", "artifacts"}]
    assert leftovers == []
    assert str(server.root) not in json.dumps([run.info.artifact_uri for run in team["steps"][0].values()])


def test_registry_versions_aliases_and_lineage(team):
    """Which version is champion follows from an independent numpy computation of both lines."""
    client, workspace = team["client"], team["workspace"]
    first, second = team["steps"]
    test = pd.read_parquet(download(workspace, second["train"].info.run_id, "split/test.parquet"))

    def rmse(train_run):
        train = pd.read_parquet(download(workspace, train_run.info.run_id, "split/train.parquet"))
        slope, intercept = np.polyfit(train["TV"], train["Sales"], 1)
        return float(np.sqrt(np.mean((test["Sales"] - intercept - slope * test["TV"]) ** 2)))

    v1_score, v2_score = rmse(first["train"]), rmse(second["train"])
    if v2_score < v1_score - 1e-6:
        expected = {"champion": "2", "previous-champion": "1", "challenger": "1"}
    else:
        expected = {"champion": "1", "challenger": "2"}
    assert aliases(client) == expected
    register = second["register"]
    assert register.data.metrics["candidate_rmse"] == pytest.approx(v2_score)
    assert register.data.metrics["champion_rmse"] == pytest.approx(v1_score)
    for version, steps in (("1", first), ("2", second)):
        tags = client.get_model_version(MODEL_NAME, version).tags
        for step in ("ingest", "validate", "train", "evaluate", "register"):
            assert tags[f"{step}_run_id"] == steps[step].info.run_id, (version, step)
        assert client.get_model_version(MODEL_NAME, version).run_id == steps["train"].info.run_id


def test_promote_and_rollback_through_the_server(team):
    client, workspace = team["client"], team["workspace"]
    before = aliases(client)
    other = "1" if before["champion"] == "2" else "2"
    promoted = workspace.mlflow_run("-e", "promote", "-P", f"version={other}")
    assert promoted.returncode == 0, explain(promoted)
    assert aliases(client)["champion"] == other
    assert aliases(client)["previous-champion"] == before["champion"]
    assert client.get_model_version(MODEL_NAME, other).tags["champion.reason"] == "promoted by hand"
    back = workspace.mlflow_run("-e", "promote", "-P", "rollback=true")
    assert back.returncode == 0, explain(back)
    assert aliases(client)["champion"] == before["champion"]
    assert aliases(client)["previous-champion"] == other


def test_batch_prediction_through_the_server(team):
    client, workspace = team["client"], team["workspace"]
    budgets = workspace.root / "budgets.csv"
    pd.DataFrame({"TV": [0, 100, 250.5]}).to_csv(budgets, index=False)
    result = workspace.mlflow_run("-e", "predict", "-P", f"input_path={budgets}")
    assert result.returncode == 0, explain(result)
    champion = client.get_model_version_by_alias(MODEL_NAME, "champion")
    (run,) = client.search_runs([team["experiment"].experiment_id], "tags.`tv_sales.step` = 'predict'")
    assert run.data.tags["tv_sales.model_version"] == str(champion.version)
    out = pd.read_csv(download(workspace, run.info.run_id, "predictions/predictions.csv"))
    train = pd.read_parquet(download(workspace, champion.run_id, "split/train.parquet"))
    slope, intercept = np.polyfit(train["TV"], train["Sales"], 1)
    assert out["prediction"].to_numpy() == pytest.approx(intercept + slope * out["TV"].to_numpy())
    assert (out["lower"] < out["prediction"]).all() and (out["prediction"] < out["upper"]).all()


def card(workspace, run, name):
    return open(download(workspace, run.info.run_id, f"card/{name}.html"), encoding="utf-8").read()


def test_every_step_run_has_its_card(team):
    workspace = team["workspace"]
    steps = team["steps"][0]
    for step, run in steps.items():
        html = card(workspace, run, step)
        assert f"Step <code>{step}</code>" in html and run.info.run_id in html, step
        assert '<span class="status FINISHED">FINISHED</span>' in html, step
        assert html.count("data:image/png;base64,") == FIGURES[step], step
        assert re.search(r"time in the step&#x27;s code</code></td><td>\d+\.\d s", html), step
        for name, value in run.data.params.items():  # what went in
            assert f"<code>{name}</code>" in html and value in html, (step, name)
        for upstream, run_id in ((key[len("tv_sales.upstream."):], value) for key, value in run.data.tags.items()
                                 if key.startswith("tv_sales.upstream.")):
            assert f"<code>{upstream}</code></td><td>{run_id}</td>" in html, (step, upstream)
        assert "<script" not in html and "http://" not in html and "https://" not in html  # self-contained
    assert f'<td class="num">{FACTS["n_rows"]}</td>' in card(workspace, steps["ingest"], "ingest")
    assert "0.782224" in card(workspace, steps["eda"], "eda")  # the correlation, 6 digits
    assert FACTS["sha256"] in card(workspace, steps["ingest"], "ingest")
    validate = card(workspace, steps["validate"], "validate")
    report = json.loads(open(download(workspace, steps["validate"].info.run_id, "validation/report.json")).read())
    assert f"{len(report['checks'])} check(s), all passed." in validate
    assert validate.count("<td>ok</td>") == len(report["checks"])


def test_the_pipeline_run_has_an_index_card_linking_all_six(team):
    workspace = team["workspace"]
    main, steps = team["mains"][1], team["steps"][1]
    html = card(workspace, main, "index")
    assert '<span class="status FINISHED">FINISHED</span>' in html
    assert "tv-sales-regressor version 2" in html
    for step, run in steps.items():
        assert f'<a href="#step-{step}">{step}</a>' in html and f'id="step-{step}"' in html, step
        assert run.info.run_id in html, step
        # the step's own card, embedded
        body = card(workspace, run, step).split("<!-- card -->")[1].split("<!-- /card -->")[0].strip()
        assert body in html, step
    assert html.count("Reused from an earlier pipeline run") == 3  # ingest, validate, eda


def test_the_ui_shows_runs_plots_cards_and_the_champion(team):
    """What a person sees in the MLflow UI, in Debian's Chromium; screenshots in test-output/."""
    url, client = team["server"].url, team["client"]
    experiment_id = team["experiment"].experiment_id
    main, steps = team["mains"][0], team["steps"][0]
    OUTPUT.mkdir(exist_ok=True)
    prefix = OUTPUT / f"ui-{team['backend']}"
    with chromium_page() as page:
        # the experiment's runs; the first pipeline run, expanded, shows its six step runs
        page.goto(f"{url}/#/experiments/{experiment_id}/runs")
        run_link = page.locator(f'a[href$="/runs/{main.info.run_id}"]')
        run_link.wait_for()
        close_assistant(page)
        page.locator("[role=row]").filter(has=run_link).locator(
            'button[data-component-id*="runnamecellrenderer"]').click()
        for step, run in steps.items():
            link = page.locator(f'a[href$="/runs/{run.info.run_id}"]')
            link.wait_for()
            assert link.inner_text() == step
        page.screenshot(path=f"{prefix}-1-runs.png")

        # the eda run's artifacts: its three plots; the scatter plot shown
        page.goto(f"{url}/#/experiments/{experiment_id}/runs/{steps['eda'].info.run_id}/artifacts")
        page.get_by_text("Select a file to preview").wait_for()
        close_assistant(page)
        folder(page, "eda").click()
        for plot in ("scatter.png", "correlation_heatmap.png", "distributions.png"):
            page.get_by_text(plot, exact=True).wait_for()
        page.get_by_text("scatter.png", exact=True).click()
        page.get_by_text("eda/scatter.png", exact=True).wait_for()
        page.locator("img[src^='blob:']").first.wait_for()
        page.get_by_text("distributions.png", exact=True).wait_for()
        page.wait_for_timeout(1000)  # let the artifact tree finish its animation before the picture
        page.screenshot(path=f"{prefix}-2-eda-plots.png")

        # the eda step card opens in the artifact view, its plots embedded
        folder(page, "card").click()
        page.get_by_text("eda.html", exact=True).click()
        frame = page.frame_locator("iframe.mlflow-html-iframe")
        frame.get_by_text("What went in").wait_for()
        assert frame.locator("img").count() == FIGURES["eda"]
        assert steps["validate"].info.run_id in frame.locator("body").inner_text()
        page.screenshot(path=f"{prefix}-3-eda-card.png")

        # the registered model: the champion's version row carries the alias
        champion = str(client.get_model_version_by_alias(MODEL_NAME, "champion").version)
        page.set_viewport_size({"width": 1400, "height": 1500})  # room for both versions' tags
        page.goto(f"{url}/#/models/{MODEL_NAME}")
        version = page.get_by_text(f"Version {champion}", exact=True)
        version.wait_for()
        close_assistant(page)
        row = page.locator("[role=row]").filter(has=version)
        row.scroll_into_view_if_needed()
        assert "@ champion" in " ".join(row.inner_text().split())
        for other in ("1", "2"):
            if other != champion:
                other_row = page.locator("[role=row]").filter(has=page.get_by_text(f"Version {other}", exact=True))
                assert "@ champion" not in " ".join(other_row.inner_text().split())
        page.screenshot(path=f"{prefix}-4-model.png")


def folder(page, name):
    """A folder of the artifact tree."""
    return page.locator("div:has(> i.fa-folder)", has_text=name)


def close_assistant(page):
    """Close the MLflow Assistant side panel when it is open (it covers part of the page)."""
    close = page.locator('button[data-component-id="mlflow.assistant.chat_panel.close"]')
    if close.count():
        close.first.click()
