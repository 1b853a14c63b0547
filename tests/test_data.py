"""Reading and validating the table: the real data passes, each kind of file is read or refused by name."""

import numpy as np
import pandas as pd
import pytest

from bad_inputs import CASES, expected_table
from conftest import DATA, FACTS
from tvsales.data import check_values, input_values, read_table, validate_file, validate_table
from tvsales.errors import PipelineError


def good_table(n=30):
    tv = np.linspace(1, 290, n)
    return pd.DataFrame({"TV": tv, "Sales": 7 + 0.05 * tv + np.sin(tv)})


def test_real_data_reads_and_passes():
    report, clean = validate_file(DATA, "TV", "Sales", 20)
    assert report.passed, report.error_message()
    assert len(clean) == FACTS["n_rows"]
    assert clean["TV"].sum() == pytest.approx(FACTS["tv_total"])
    assert clean["Sales"].sum() == pytest.approx(FACTS["sales_total"])
    assert list(clean.dtypes) == [np.float64, np.float64]
    duplicates = [c for c in report.checks if c["check"].startswith("duplicate")]
    assert duplicates[0]["count"] == 0


def test_parquet_reads_like_csv(tmp_path):
    path = tmp_path / "data.parquet"
    pd.read_csv(DATA).to_parquet(path)
    pd.testing.assert_frame_equal(validate_file(path, "TV", "Sales", 20)[1],
                                  validate_file(DATA, "TV", "Sales", 20)[1])


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_kind_of_file_is_read_right_or_refused_by_name(tmp_path, case):
    path = tmp_path / case.filename
    path.write_bytes(case.content)
    settings = {"separator": "auto", "decimal": ".", **case.settings}
    report, clean = validate_file(path, "TV", "Sales", 20, settings["separator"], settings["decimal"])
    notes = " ".join(report.notes)
    if case.fragment is None:
        assert report.passed, report.error_message()
        tv, sales = expected_table(case)
        assert list(clean.columns) == ["TV", "Sales"] and list(clean.dtypes) == [np.float64] * 2
        np.testing.assert_array_equal(clean["TV"].to_numpy(), tv)  # exactly the numbers written
        np.testing.assert_array_equal(clean["Sales"].to_numpy(), sales)
        assert case.note is None or case.note in notes, notes
    else:
        assert clean is None and not report.passed
        message = report.error_message()
        assert message.startswith(f"{path}: the data failed validation"), message
        assert case.fragment in message, message
        assert case.check in [problem["check"] for problem in report.problems], report.problems
        assert "Traceback" not in message


def test_csv_cells_are_read_as_written_with_the_raw_header(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("TV, TV ,Sales\n 1.50 ,2,\n\n007,x,3\n")
    table = read_table(path)
    assert list(table.columns) == ["TV", " TV ", "Sales"]  # not renamed TV.1 as pandas would
    assert table.values.tolist() == [[" 1.50 ", "2", ""], ["", "", ""], ["007", "x", "3"]]


def test_rows_are_numbered_as_lines_below_the_header_blank_lines_included(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("\nTV,Sales\n1,2\n\nabc,3\n4,-5\n")
    report, _ = validate_file(path, "TV", "Sales", 2)
    assert "column 'TV': value is not a number in row 3 ('abc')" in report.error_message()
    assert "column 'Sales': value is negative in row 4 (-5)" in report.error_message()
    assert "ignored 1 blank row(s): 2." in report.notes


def test_separator_can_be_set(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("TV;Sales\n" + "".join(f"{i};{i % 7}\n" for i in range(30)))
    assert validate_file(path, "TV", "Sales", 20, separator=";")[0].passed
    report, _ = validate_file(path, "TV", "Sales", 20, separator="\t")
    assert "column 'TV' is missing; the file has ['TV;Sales']" in report.error_message()


def test_wrong_types_and_python_objects_in_a_column():
    import decimal

    _, found = check_values(pd.Series(pd.to_timedelta([1, 2], unit="s")), "TV")
    ((check, rows, message),) = found
    assert (check, rows) == ("numeric", [1, 2])
    assert message.startswith("column 'TV' holds durations (timedelta64[")
    assert message.endswith("not numbers, in every row; store it as numbers (float or integer).")
    values, found = check_values(pd.Series([decimal.Decimal("2.5"), 10**400, True, None, " 3 "],
                                           dtype=object), "TV")
    assert values.tolist()[:2] == [2.5, float("inf")] and values.tolist()[4] == 3.0
    rows = {name: rows for name, rows, _ in found}
    assert rows == {"numeric": [3], "no missing values": [4], "finite": [2], "non-negative": [],
                    "not too large": []}


def test_input_values_of_a_file_to_score(tmp_path):
    path = tmp_path / "budgets.csv"
    path.write_text("region; tv \nnorth;100,5\n\nsouth;0\n")
    rows, values = input_values(read_table(path, decimal=","), "TV", decimal=",")
    assert rows.values.tolist() == [["north", "100,5"], ["south", "0"]] and values.tolist() == [100.5, 0]
    path.write_text("TV\n100\n-5\n\n1e13\n")
    with pytest.raises(PipelineError) as error:
        input_values(read_table(path), "TV", source="budgets.csv")
    assert str(error.value) == (
        "budgets.csv: cannot be scored (2 problem(s)):\n"
        "  - column 'TV': value is negative in row 2 (-5).\n"
        "  - column 'TV': value is larger than 1e12 in row 4 (1e13). Values this large overflow the "
        "metrics; check the column's unit.")


@pytest.mark.parametrize("make, fragment", [
    (lambda p: p, "no such file"),
    (lambda p: (p.mkdir(), p)[1], "this is a directory, not a file"),
    (lambda p: (p.write_text(""), p)[1], "the file is empty"),
])
def test_unreadable_sources_name_the_file(tmp_path, make, fragment):
    path = make(tmp_path / "data.csv")
    with pytest.raises(PipelineError) as error:
        read_table(path)
    assert str(path) in str(error.value) and fragment in str(error.value)


def test_header_only_file_fails_on_row_count(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("TV,Sales\n")
    report, clean = validate_table(read_table(path), "TV", "Sales", 20, "header.csv")
    assert clean is None
    assert "a header but no data rows; at least 20 are needed" in report.error_message()


def broken(column, row, value):
    table = good_table().astype(object)
    table.loc[row, column] = value
    return table


@pytest.mark.parametrize("table, check, fragment", [
    (broken("TV", 2, "abc"), "numeric", "column 'TV': value is not a number in row 3 ('abc')"),
    (broken("Sales", 0, None), "no missing values", "column 'Sales': missing value in row(s) 1"),
    (broken("Sales", 4, "  "), "no missing values", "column 'Sales': missing value in row(s) 5"),
    (broken("TV", 5, float("inf")), "finite", "column 'TV': value is not finite in row 6"),
    (broken("TV", 6, "1e400"), "finite", "row 7 ('1e400')"),
    (broken("Sales", 9, -3.5), "non-negative", "column 'Sales': value is negative in row 10 (-3.5)"),
    (good_table().drop(columns="Sales"), "column present", "column 'Sales' is missing"),
    (good_table().rename(columns={"TV": "spend"}), "column present", "column 'TV' is missing"),
    (good_table().assign(tv=1.0), "column named once", "column 'TV' appears 2 times"),
    (broken("TV", 3, True), "numeric", "column 'TV': value is not a number in row 4 (True)"),
    (good_table().assign(TV=lambda t: t["TV"] > 100), "numeric", "holds true/false values (bool)"),
    (broken("Sales", 2, 2e12), "not too large", "value is larger than 1e12 in row 3 (2000000000000.0)"),
    (good_table(5), "enough rows", "5 data row(s); at least 20"),
    (good_table().assign(TV=3.0), "varies", "column 'TV' has the same value (3)"),
    (good_table().assign(Sales=9.0), "varies", "column 'Sales' has the same value (9)"),
])
def test_each_broken_rule_is_reported(table, check, fragment):
    report, clean = validate_table(table, "TV", "Sales", 20, "input.csv")
    assert clean is None and not report.passed
    assert check in [problem["check"] for problem in report.problems]
    message = report.error_message()
    assert message.startswith("input.csv: the data failed validation")
    assert fragment in message, message


def test_every_problem_is_in_one_message():
    table = broken("TV", 2, "abc")
    table.loc[7, "Sales"] = -1
    report, _ = validate_table(table, "TV", "Sales", 20, "input.csv")
    assert len(report.problems) == 2
    assert "row 3" in report.error_message() and "row 8" in report.error_message()


def test_many_bad_rows_are_summarised_but_all_kept_in_the_report():
    table = good_table(40)
    table["TV"] = -table["TV"]
    report, _ = validate_table(table, "TV", "Sales", 20, "input.csv")
    assert "and 30 more" in report.error_message()
    assert report.problems[0]["rows"] == list(range(1, 41))


def test_extra_columns_are_noted_and_dropped_duplicates_reported():
    table = pd.concat([good_table(), good_table().head(2)]).assign(Radio=1.0)
    report, clean = validate_table(table, "TV", "Sales", 20, "input.csv")
    assert report.passed
    assert list(clean.columns) == ["TV", "Sales"]
    assert any("'Radio'" in note for note in report.notes)
    assert any("2 row(s) repeat" in note for note in report.notes)


def test_report_renders_for_people_and_machines():
    report, _ = validate_table(broken("TV", 2, "abc"), "TV", "Sales", 20, "input.csv")
    data = report.to_dict()
    assert data["passed"] is False and data["problems"][0]["rows"] == [3]
    markdown = report.to_markdown()
    assert "FAILED" in markdown and "| numeric | TV | FAILED |" in markdown
