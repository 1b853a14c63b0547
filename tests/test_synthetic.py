"""The data generator: deterministic, and its data look like the real file to the real file's precision.

The real file's statistics and their standard errors are computed here with numpy's closed
forms, independently of tvsales.synthetic.
"""

import math

import numpy as np
import pandas as pd
import pytest

from conftest import DATA, FACTS
from tvsales import synthetic

N_ROWS = 200_000  # enough that the generated statistics' own noise is far below the tolerances


def line_and_residuals(x, y):
    x_mean, y_mean = x.mean(), y.mean()
    slope = ((x - x_mean) * (y - y_mean)).sum() / ((x - x_mean) ** 2).sum()
    intercept = y_mean - slope * x_mean
    return intercept, slope, y - (intercept + slope * x)


def statistics(table):
    """Slope, intercept, correlation, residual spread overall and by TV band (0-100, 100-200, 200-300)."""
    x, y = table["TV"].to_numpy(dtype=float), table["Sales"].to_numpy(dtype=float)
    intercept, slope, residual = line_and_residuals(x, y)
    bands = [(x >= low) & (x < low + 100) for low in (0, 100, 200)]
    return {"intercept": intercept, "slope": slope, "correlation": np.corrcoef(x, y)[0, 1],
            "sigma": math.sqrt((residual ** 2).sum() / (len(x) - 2)),
            "band_sigma": [residual[band].std() for band in bands], "band_rows": [band.sum() for band in bands]}


@pytest.fixture(scope="module")
def real():
    return statistics(pd.read_csv(DATA))


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = synthetic.write(tmp_path_factory.mktemp("gen") / "tv.parquet", N_ROWS, seed=3)
    return pd.read_parquet(path)


def standard_errors(real):
    """Sampling standard errors of the real file's estimates (200 rows): the tolerances."""
    x = pd.read_csv(DATA)["TV"].to_numpy(dtype=float)
    n, sxx = len(x), ((x - x.mean()) ** 2).sum()
    return {"slope": real["sigma"] / math.sqrt(sxx),
            "intercept": real["sigma"] * math.sqrt(1 / n + x.mean() ** 2 / sxx),
            "correlation": (1 - real["correlation"] ** 2) / math.sqrt(n - 1),
            "sigma": real["sigma"] / math.sqrt(2 * (n - 2)),
            "band_sigma": [s / math.sqrt(2 * (k - 1)) for s, k in zip(real["band_sigma"], real["band_rows"])]}


def test_real_statistics_are_the_facts(real):
    """The oracle itself: this file's closed forms give the data README's numbers."""
    assert real["slope"] == pytest.approx(FACTS["slope_all_rows"], abs=5e-7)
    assert real["intercept"] == pytest.approx(FACTS["intercept_all_rows"], abs=5e-6)
    assert real["correlation"] == pytest.approx(FACTS["correlation"], abs=5e-6)


def test_generated_data_match_the_real_fit_within_one_standard_error(real, generated):
    """Slope, intercept, correlation and residual spread: each within 1 standard error of the real
    estimate, i.e. the generated data cannot be told from the real data at its own precision."""
    ours, tolerance = statistics(generated), standard_errors(real)
    for key in ("slope", "intercept", "correlation", "sigma"):
        assert abs(ours[key] - real[key]) < tolerance[key], (key, ours[key], real[key], tolerance[key])
    for band, (mine, theirs, within) in enumerate(zip(ours["band_sigma"], real["band_sigma"],
                                                       tolerance["band_sigma"])):
        assert abs(mine - theirs) < within, (band, mine, theirs, within)


def test_residual_spread_grows_with_tv_as_in_the_real_data(real, generated):
    ours = statistics(generated)["band_sigma"]
    assert ours[0] < ours[1] < ours[2]
    assert real["band_sigma"][0] < real["band_sigma"][1] < real["band_sigma"][2]
    assert ours[2] / ours[0] > 2  # the real ratio is 2.4


def test_spend_distribution_is_the_real_one(generated):
    tv = generated["TV"].to_numpy()
    assert tv.min() >= FACTS["tv_min"] and tv.max() <= FACTS["tv_max"]
    real = np.sort(pd.read_csv(DATA)["TV"].to_numpy())
    # deciles within 1.5 % of the range of the real ones (a decile of 200 rows is that uncertain)
    levels = np.linspace(0.1, 0.9, 9)
    assert np.abs(np.quantile(tv, levels) - np.quantile(real, levels)).max() < 0.015 * 296
    assert tv.mean() == pytest.approx(FACTS["tv_mean"], rel=0.01)


def test_values_are_positive_with_one_decimal(generated):
    for column in ("TV", "Sales"):
        values = generated[column].to_numpy()
        assert (values > 0).all()  # no zero sales: MAPE divides by them
        assert np.allclose(values * 10, np.round(values * 10), atol=1e-6)


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    first = synthetic.write(tmp_path / "a.csv", 3000, seed=11).read_bytes()
    assert synthetic.write(tmp_path / "b.csv", 3000, seed=11).read_bytes() == first
    assert synthetic.write(tmp_path / "c.csv", 3000, seed=12).read_bytes() != first
    assert first.startswith(b"TV,Sales\n") and first.count(b"\n") == 3001


def test_csv_and_parquet_hold_the_same_rows_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(synthetic, "CHUNK_ROWS", 700)  # several chunks, one of them short
    csv = pd.read_csv(synthetic.write(tmp_path / "t.csv", 2500, seed=5))
    parquet = pd.read_parquet(synthetic.write(tmp_path / "t.parquet", 2500, seed=5))
    assert len(csv) == len(parquet) == 2500
    pd.testing.assert_frame_equal(csv, parquet)
    assert not np.array_equal(csv["TV"][:700], csv["TV"][700:1400])  # each chunk draws new rows


def test_command_line_writes_the_file(tmp_path, capsys):
    synthetic.main(["--rows", "1000", "--seed", "2", "--out", str(tmp_path / "x.csv")])
    assert "wrote 1000 rows" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "x.csv")) == 1000


@pytest.mark.parametrize("args, message", [
    (["--rows", "10", "--seed", "-1", "--out", "x.csv"], "--seed must be 0 or more"),
    (["--rows", "10", "--out", "x.txt"], "name a .csv, .parquet or .pq file"),
    (["--rows", "10", "--out", "dir.csv"], "this is a directory"),
])
def test_command_line_refuses_bad_arguments_in_one_line(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(SystemExit) as stop:
        synthetic.main(args)
    assert stop.value.code == 2 and message in capsys.readouterr().err
