"""Statistics, the model and its metrics against independent numpy computations and the data's facts."""

import numpy as np
import pytest

from conftest import DATA, FACTS
from tvsales.analysis import business_answers, correlation_strength, describe
from tvsales.data import validate_file
from tvsales.model import check_thresholds, regression_metrics, split_data, train_model


@pytest.fixture(scope="module")
def table():
    report, clean = validate_file(DATA, "TV", "Sales", 20)  # the table eda and train get
    assert report.passed, report.error_message()
    return clean


def test_business_answers_match_the_facts(table):
    answers = business_answers(table, "TV", "Sales")
    assert answers["n_rows"] == FACTS["n_rows"]
    for key in ("tv_total", "tv_mean", "sales_total", "sales_mean"):
        assert answers[key] == pytest.approx(FACTS[key])
    assert answers["correlation"] == pytest.approx(FACTS["correlation"], abs=5e-6)
    assert answers["sales_per_tv"] == pytest.approx(FACTS["sales_total"] / FACTS["tv_total"])
    assert answers["marginal_sales_per_tv"] == pytest.approx(FACTS["slope_all_rows"], abs=5e-7)
    assert answers["sales_at_zero_tv"] == pytest.approx(FACTS["intercept_all_rows"], abs=5e-6)


def test_describe_has_min_and_max(table):
    statistics = describe(table)
    assert statistics.loc["min", "TV"] == FACTS["tv_min"]
    assert statistics.loc["max", "Sales"] == FACTS["sales_max"]


@pytest.mark.parametrize("r, words", [(0.78, "a strong positive"), (-0.5, "a moderate negative"),
                                      (0.25, "a weak positive"), (0.05, "no meaningful")])
def test_correlation_strength(r, words):
    assert correlation_strength(r) == words


def test_split_is_disjoint_complete_and_seeded(table):
    train, test = split_data(table, 0.33, 42)
    assert len(test) == 66 and len(train) == 134
    assert sorted(train.index.tolist() + test.index.tolist()) == list(range(200))
    again, _ = split_data(table, 0.33, 42)
    assert train.index.tolist() == again.index.tolist()
    other, _ = split_data(table, 0.33, 7)
    assert train.index.tolist() != other.index.tolist()


@pytest.mark.parametrize("test_size, random_state", [(0.33, 42), (0.25, 7), (0.5, 0), (0.1, 123)])
def test_split_equals_scikit_learns_train_test_split(table, test_size, random_state):
    from sklearn.model_selection import train_test_split

    expected_train, expected_test = train_test_split(table, test_size=test_size,
                                                     random_state=random_state)
    train, test = split_data(table, test_size, random_state)
    assert train.index.tolist() == expected_train.index.tolist()
    assert test.index.tolist() == expected_test.index.tolist()


@pytest.mark.parametrize("test_size", [0.999, 0.995, 0.001])
def test_split_that_leaves_too_few_rows_is_refused(table, test_size):
    from tvsales.errors import PipelineError

    with pytest.raises(PipelineError, match="at least 3 training and 2 test rows"):
        split_data(table, test_size, 42)


def test_model_equals_numpy_closed_form(table):
    model = train_model(table, "TV", "Sales")
    x = np.column_stack([np.ones(len(table)), table["TV"].to_numpy()])
    (intercept, slope), *_ = np.linalg.lstsq(x, table["Sales"].to_numpy(), rcond=None)
    assert model.intercept_ == pytest.approx(FACTS["intercept_all_rows"], abs=5e-6)
    assert model.intercept_ == pytest.approx(intercept) and model.coef_[0] == pytest.approx(slope)


def test_metrics_equal_their_definitions():
    y = np.array([10.0, 12.0, 8.0, 20.0])
    p = np.array([11.0, 11.0, 9.0, 16.0])
    metrics = regression_metrics(y, p)
    error = y - p
    assert metrics["mae"] == pytest.approx(np.abs(error).mean())
    assert metrics["mape"] == pytest.approx(np.mean(np.abs(error) / np.abs(y)))
    assert metrics["rmse"] == pytest.approx(np.sqrt(np.mean(error ** 2)))
    assert metrics["r2"] == pytest.approx(1 - np.sum(error ** 2) / np.sum((y - y.mean()) ** 2))


@pytest.mark.parametrize("r2, mape, passed, count", [
    (0.6, 0.2, True, 0), (0.4, 0.2, False, 1), (0.6, 0.3, False, 1), (0.4, 0.3, False, 2),
    (0.5, 0.25, True, 0), (float("nan"), 0.1, False, 1),
])
def test_thresholds(r2, mape, passed, count):
    ok, failures = check_thresholds({"r2": r2, "mape": mape}, min_r2=0.5, max_mape=0.25)
    assert ok is passed and len(failures) == count


def test_a_training_split_with_a_single_tv_value_is_refused():
    import pandas as pd

    from tvsales.errors import PipelineError

    train = pd.DataFrame({"TV": [5.0] * 6, "Sales": [1.0, 2, 3, 4, 5, 6]})
    with pytest.raises(PipelineError, match=r"column 'TV' has the same value \(5\) in all 6 training rows"):
        train_model(train, "TV", "Sales")
