"""The served model's request checks, called directly."""

import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from tvsales.serving import check_request


def test_interval_level_zero_is_refused_not_defaulted(tmp_path):
    from tvsales.serving import TVSalesModel

    model = TVSalesModel()
    model.config = {"feature": "TV", "interval_level": 0.95}
    with pytest.raises(MlflowException, match="interval_level must be between 0 and 1"):
        model.predict(None, pd.DataFrame({"TV": [1.0]}), params={"interval_level": 0.0})


def test_good_request_becomes_floats():
    values = check_request(pd.DataFrame({"TV": [100, 0, 5.5]}), "TV")
    assert values.dtype == np.float64 and list(values) == [100.0, 0.0, 5.5]


@pytest.mark.parametrize("table, fragment", [
    (pd.DataFrame({"tv": [1.0]}), "no column 'TV'"),
    (pd.DataFrame({"TV": ["abc"]}), "not a number in row 1 ('abc')"),
    (pd.DataFrame({"TV": [None]}), "missing value in row(s) 1"),
    (pd.DataFrame({"TV": [1.0, np.nan]}), "missing value in row(s) 2"),
    (pd.DataFrame({"TV": [np.inf]}), "not finite in row 1"),
    (pd.DataFrame({"TV": [5.0, -1.0]}), "negative in row 2 (-1.0)"),
])
def test_bad_request_is_a_400_naming_the_problem(table, fragment):
    with pytest.raises(MlflowException) as error:
        check_request(table, "TV")
    assert error.value.get_http_status_code() == 400
    assert fragment in error.value.message
