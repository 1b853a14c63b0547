"""Intervals against independent computations (scipy's linregress, the matrix form), and the reports."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import DATA
from tvsales.intervals import ols_summary, prediction_interval, slope_interval
from tvsales.report import errors_grow_with, recommendation, what_if_budgets


@pytest.fixture(scope="module")
def data():
    table = pd.read_csv(DATA)
    return table["TV"].to_numpy(), table["Sales"].to_numpy()


def test_summary_and_slope_interval_match_scipy_linregress(data):
    x, y = data
    summary = ols_summary(x, y)
    fit = stats.linregress(x, y)
    assert summary["slope"] == pytest.approx(fit.slope)
    assert summary["intercept"] == pytest.approx(fit.intercept)
    t = stats.t.ppf(0.975, len(x) - 2)
    low, high = slope_interval(summary, 0.95)
    assert (low, high) == pytest.approx((fit.slope - t * fit.stderr, fit.slope + t * fit.stderr))


def test_prediction_interval_matches_the_matrix_form(data):
    x, y = data
    summary = ols_summary(x, y)
    design = np.column_stack([np.ones_like(x), x])
    beta, residual_ss, *_ = np.linalg.lstsq(design, y, rcond=None)
    sigma2 = residual_ss[0] / (len(x) - 2)
    inverse = np.linalg.inv(design.T @ design)
    new = np.array([0.0, 100.0, 296.4, 500.0])
    rows = np.column_stack([np.ones_like(new), new])
    se = np.sqrt(sigma2 * (1 + np.einsum("ij,jk,ik->i", rows, inverse, rows)))
    t = stats.t.ppf(0.9, len(x) - 2)
    lower, upper = prediction_interval(summary, new, 0.8)
    assert lower == pytest.approx(rows @ beta - t * se)
    assert upper == pytest.approx(rows @ beta + t * se)


def test_wider_level_gives_wider_interval(data):
    summary = ols_summary(*data)
    narrow = np.subtract(*prediction_interval(summary, [150.0], 0.5)[::-1])
    wide = np.subtract(*prediction_interval(summary, [150.0], 0.99)[::-1])
    assert wide[0] > narrow[0] > 0


def test_what_if_budgets_cover_the_observed_range():
    budgets = what_if_budgets(296.4)
    assert budgets[0] == 0 and budgets[-1] == 300 and len(budgets) == 7


def test_errors_grow_with_spend_in_the_real_data(data):
    assert errors_grow_with(*data)
    x = np.linspace(0, 300, 200)
    assert not errors_grow_with(x, 7 + 0.05 * x + np.sin(x * 7))


METRICS = {"mae": 2.3, "mape": 0.18, "r2": 0.62, "rmse": 3.1}
BASELINE = {"mae": 4.7, "mape": 0.45, "r2": -0.1, "rmse": 5.4}


def test_recommendation_from_a_clear_effect():
    text = " ".join(recommendation(0.048, (0.041, 0.055), 0.95, METRICS, BASELINE, (0.7, 296.4), True))
    assert "about 48 more units" in text and "41 to 55 units" in text
    assert "$20.83 of margin" in text  # 1000 $ / 48 units
    assert "43% smaller than always guessing the average" in text
    assert "38% is left unexplained" in text and "between 0.7 and 296.4" in text
    assert "errors grow with the budget" in text


def test_recommendation_when_the_effect_may_be_zero():
    text = " ".join(recommendation(0.002, (-0.01, 0.014), 0.95, METRICS, BASELINE, (0, 300), False))
    assert "includes zero" in text and "Do not raise the TV budget" in text
    assert "errors grow" not in text
