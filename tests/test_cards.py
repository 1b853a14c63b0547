"""Step cards: the HTML builder (pure), and the cards a real failing pipeline logs."""

import base64
import re
import struct
import zlib

import pytest

from conftest import EXPERIMENT, explain
from tvsales.cards import StepCard, body_of, format_value, index_card_html, step_card_html


def tiny_png():
    """A valid 1x1 PNG, made by hand (no plotting library)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def a_card(**changes):
    card = StepCard(step="train", run_id="r" * 32, status="FINISHED", started_at="2026-01-02T03:04:05+00:00",
                    seconds=2.345, run_seconds=6.5, params={"test_size": "0.33", "validate_run_id": "v" * 32},
                    upstream={"validate": "v" * 32, "ingest": "i" * 32},
                    inputs=[{"run_id": "v" * 32, "artifact": "data/validated.parquet", "rows": 200, "columns": 2,
                             "sha256": "ab" * 32}],
                    metrics={"slope": 0.0482248, "n_train": 134.0},
                    tables=[{"artifact": "split/train.parquet", "n_rows": 134, "columns": ["TV", "Sales"],
                             "rows": [{"TV": 230.1 + i, "Sales": 22.1} for i in range(8)]}],
                    figures=[("Linear fit of sales on TV spend", "plots/fitted_line.png", tiny_png())],
                    artifacts=["model/MLmodel", "plots/fitted_line.png"])
    for key, value in changes.items():
        setattr(card, key, value)
    return card


def test_a_card_shows_what_went_in_what_came_out_and_how_long():
    html = step_card_html(a_card())
    assert html.startswith("<!doctype html>") and "<style>" in html
    assert "Step <code>train</code>" in html and "r" * 32 in html
    assert "<td>2.3 s</td>" in html and "<td>6.5 s</td>" in html
    assert "<code>validate</code></td><td>" + "v" * 32 in html
    assert "<code>test_size</code></td><td>0.33</td>" in html
    assert "ab" * 32 in html  # the digest of the data read
    assert '<code>slope</code></td><td class="num">0.0482248</td>' in html
    assert '<code>n_train</code></td><td class="num">134</td>' in html
    assert "134 rows × 2 columns; the first 5 rows" in html
    assert html.count("<td class=\"num\">22.1</td>") == 5  # five rows shown of eight
    assert "plots/fitted_line.png" in html and "model/MLmodel" in html


def test_figures_are_embedded_as_the_png_itself():
    html = step_card_html(a_card())
    (data,) = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert base64.b64decode(data) == tiny_png()
    assert 'alt="Linear fit of sales on TV spend"' in html


def test_a_failed_validation_card_names_the_checks_and_what_failed():
    card = a_card(step="validate", status="FAILED", error="bad.csv: the data failed validation (1 problem(s))",
                  checks=[{"check": "numeric", "column": "Sales", "passed": False},
                          {"check": "enough rows", "column": None, "passed": True}],
                  problems=["column 'Sales': value is not a number in row 2 ('abc')."], figures=[], tables=[])
    html = step_card_html(card)
    assert '<span class="status FAILED">FAILED</span>' in html
    assert "2 check(s), <b>1 failed</b>." in html
    assert "<td>numeric</td><td>Sales</td><td>FAILED</td>" in html
    assert "<td>enough rows</td><td>-</td><td>ok</td>" in html
    assert "value is not a number in row 2 (&#x27;abc&#x27;)." in html
    assert '<pre class="error">bad.csv: the data failed validation' in html


def test_text_from_users_is_escaped():
    html = step_card_html(a_card(params={"data_path": "<script>alert(1)</script>"}, error="a & <b>"))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "a &amp; &lt;b&gt;" in html


def test_index_card_links_every_step_and_embeds_its_card():
    steps = ["ingest", "validate", "eda", "train", "evaluate", "register"]
    rows = [{"step": step, "run_id": f"{step}-run", "status": "REUSED" if step == "ingest" else "FINISHED",
             "seconds": 1.5} for step in steps]
    cards = {step: step_card_html(a_card(step=step, run_id=f"{step}-run")) for step in steps[:-1]}
    cards["register"] = None  # e.g. a run from before cards existed
    html = index_card_html("main-run", "FINISHED", rows, cards, {"random_state": 42},
                           "tv-sales-regressor version 3 (champion)", 40.0)
    for step in steps:
        assert f'<a href="#step-{step}">{step}</a>' in html and f'id="step-{step}"' in html
    for step in steps[:-1]:
        assert body_of(cards[step]) in html
    assert "This run has no step card." in html
    assert "Reused from an earlier pipeline run" in html and "<td class=\"num\">reused</td>" in html
    assert "tv-sales-regressor version 3 (champion)" in html and "40.0 s in all" in html
    assert body_of(html).count("<!-- card -->") == 0  # embedded bodies, not nested pages


@pytest.mark.parametrize("value, text", [(200.0, "200"), (3, "3"), (0.78222437, "0.782224"), (29408.5, "29408.5"),
                                         (1e-7, "1e-07"), (True, "True"), ("abc", "abc"), (None, "")])
def test_format_value(value, text):
    assert format_value(value) == text


@pytest.mark.slow
def test_a_failing_validate_logs_its_card_and_the_pipeline_its_index(workspace):
    import mlflow

    bad = workspace.root / "bad.csv"
    bad.write_text("TV,Sales\n230.1,22.1\n44.5,abc\n-17.2,9.3\n" + "151.5,18.5\n" * 30)
    result = workspace.mlflow_run("-P", f"data_path={bad}")
    assert result.returncode != 0 and "pipeline failed at step 'validate'" in result.stderr, explain(result)
    client = workspace.client()
    experiment = client.get_experiment_by_name(EXPERIMENT)
    (validate,) = client.search_runs([experiment.experiment_id], "tags.`tv_sales.step` = 'validate'")
    assert validate.info.status == "FAILED"

    def card(run, name):
        path = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path=f"card/{name}.html",
                                                   tracking_uri=workspace.tracking_uri)
        return open(path, encoding="utf-8").read()

    html = card(validate, "validate")
    assert '<span class="status FAILED">FAILED</span>' in html
    report = client.download_artifacts(validate.info.run_id, "validation/report.json")
    import json

    checks = json.loads(open(report).read())["checks"]
    failed = [check for check in checks if not check["passed"]]
    assert len(failed) == 2  # not a number in Sales, negative in TV
    assert f"{len(checks)} check(s), <b>2 failed</b>." in html
    assert "<td>numeric</td><td>Sales</td><td>FAILED</td>" in html
    assert "<td>non-negative</td><td>TV</td><td>FAILED</td>" in html
    assert "value is not a number in row 2 (&#x27;abc&#x27;)" in html
    assert "value is negative in row 3 (-17.2)" in html
    assert "33 rows × 2 columns" not in html  # nothing came out of a failed validation but its report
    main = client.get_run(validate.data.tags["mlflow.parentRunId"])
    index = card(main, "index")
    assert '<h1>Pipeline run <span class="status FAILED">FAILED</span></h1>' in index
    assert 'id="step-validate"' in index and body_of(html) in index
    assert 'id="step-ingest"' in index and 'id="step-train"' not in index
