"""The reader's fast road (pyarrow, for large plain files) gives exactly what the careful road gives.

Each kind of file of tests/bad_inputs.py is read and validated twice, once as usual and once
with the fast road shut, and the tables, reports and messages must be equal; and plain-number
text parsed at once equals the same text parsed cell by cell.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bad_inputs import CASES
from tvsales import data
from tvsales.synthetic import write


def careful(monkeypatch):
    monkeypatch.setattr(data, "_read_plain_csv", lambda *args: None)


def outcome(path, case):
    options = {"separator": "auto", "decimal": ".", **case.settings}
    try:
        table = data.read_table(path, None, options["separator"], options["decimal"])
    except data.ReadError as error:
        table = str(error)
    report, clean = data.validate_file(path, "TV", "Sales", 20, options["separator"], options["decimal"])
    return table, report.to_dict(), clean


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_both_roads_read_and_validate_each_kind_of_file_alike(tmp_path, monkeypatch, case):
    path = tmp_path / case.filename
    path.write_bytes(case.content)
    fast_table, fast_report, fast_clean = outcome(path, case)
    careful(monkeypatch)
    table, report, clean = outcome(path, case)
    if isinstance(table, str):
        assert fast_table == table
    else:
        pd.testing.assert_frame_equal(fast_table, table)
        assert fast_table.attrs == table.attrs
    assert fast_report == report
    if clean is None:
        assert fast_clean is None
    else:
        pd.testing.assert_frame_equal(fast_clean, clean)


def test_a_generated_file_takes_the_fast_road_and_reads_like_pandas(tmp_path):
    path = write(tmp_path / "tv.csv", 5000, seed=4)
    table = data._read_plain_csv(path.read_bytes(), str(path), "auto", ".")
    assert table is not None and list(table.columns) == ["TV", "Sales"]
    assert isinstance(table["TV"].array, pd.arrays.ArrowStringArray)  # text kept by Arrow
    report, clean = data.validate_file(path, "TV", "Sales", 20)
    assert report.passed, report.error_message()
    np.testing.assert_array_equal(clean.to_numpy(), pd.read_csv(path).to_numpy(dtype="float64"))


@pytest.mark.parametrize("body", ['1,"2"\n', "1,2\n\n3\n", "1,2,3\n", "1,\xe92\n".encode("latin-1")])
def test_quotes_ragged_lines_and_other_encodings_take_the_careful_road(body):
    content = b"TV,Sales\n" + (body if isinstance(body, bytes) else body.encode())
    assert data._read_plain_csv(content, "f.csv", "auto", ".") is None


def test_a_decimal_comma_is_never_read_as_thousands_on_the_fast_road(tmp_path):
    path = tmp_path / "semicolons.csv"
    path.write_text("TV;Sales\n" + "".join(f"{i},5;{i % 7},1\n" for i in range(30)))
    report, _ = data.validate_file(path, "TV", "Sales", 20, ";", ".")
    assert "column 'TV': value is not a number in row 1 ('0,5')" in report.error_message()
    report, clean = data.validate_file(path, "TV", "Sales", 20, ";", ",")
    assert report.passed and clean["TV"].iloc[1] == 1.5 and clean["Sales"].iloc[1] == 1.1


NUMBERISH = st.text(alphabet="0123456789.,+-eE \t", min_size=0, max_size=30)
SPECIAL = st.sampled_from(["nan", "NaN", "-nan", "inf", "-inf", "+inf", "Infinity", "INF", "infinity",
                           "1" * 400, "0." + "1" * 60, "1e400", "-1e-400", "1_0", "0x10", "1d", "١"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(NUMBERISH, SPECIAL, st.text(max_size=8), st.floats().map(repr)),
                min_size=1, max_size=30), st.sampled_from([".", ","]))
def test_text_parsed_at_once_equals_text_parsed_cell_by_cell(cells, decimal):
    """Whether every cell is a number as pyarrow reads them (one cast) or some are not (the
    plain ones at once, the others cell by cell), the values are the cell-by-cell ones."""
    column = pd.Series(cells, dtype="str")
    assert isinstance(column.array, pd.arrays.ArrowStringArray)
    values, missing = data._text_to_numbers(column, decimal)
    expected_values, expected_missing = data._cells_to_numbers(np.array(cells, dtype=object), decimal)
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(missing, expected_missing)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2003\u3000\u200bx", max_size=4), min_size=1,
                max_size=20))
def test_blank_text_is_what_python_strips_to_nothing(cells):
    table = pd.DataFrame({"a": pd.Series(cells, dtype="str")})
    assert data.blank_rows(table).tolist() == [not cell.strip() for cell in cells]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats().map(repr), st.integers().map(str),
                          st.sampled_from(["nan", "-inf", "Infinity", "+inf", "1e400", ".5", "5.", "+.5"]),
                          st.from_regex(r"\A[+-]?\d{1,25}(\.\d{0,25})?([eE][+-]?\d{1,3})?\Z")),
                min_size=1, max_size=30))
def test_a_column_of_numbers_cast_at_once_equals_cell_by_cell(cells):
    column = pd.Series(cells, dtype="str")
    values, missing = data._text_to_numbers(column, ".")
    expected_values, expected_missing = data._cells_to_numbers(np.array(cells, dtype=object), ".")
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(missing, expected_missing)
