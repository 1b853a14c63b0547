"""Reading and validating the table: the real data passes, each broken rule is named."""

import numpy as np
import pandas as pd
import pytest

from conftest import DATA, FACTS
from tvsales.data import read_table, validate_table
from tvsales.errors import PipelineError


def good_table(n=30):
    tv = np.linspace(1, 290, n)
    return pd.DataFrame({"TV": tv, "Sales": 7 + 0.05 * tv + np.sin(tv)})


def test_real_data_reads_and_passes():
    table = read_table(DATA)
    report, clean = validate_table(table, "TV", "Sales", 20, str(DATA))
    assert report.passed, report.error_message()
    assert len(clean) == FACTS["n_rows"]
    assert clean["TV"].sum() == pytest.approx(FACTS["tv_total"])
    assert clean["Sales"].sum() == pytest.approx(FACTS["sales_total"])
    assert list(clean.dtypes) == [np.float64, np.float64]
    duplicates = [c for c in report.checks if c["check"].startswith("duplicate")]
    assert duplicates[0]["count"] == 0


def test_parquet_reads_like_csv(tmp_path):
    path = tmp_path / "data.parquet"
    read_table(DATA).to_parquet(path)
    pd.testing.assert_frame_equal(read_table(path), read_table(DATA))


@pytest.mark.parametrize("make, fragment", [
    (lambda p: p, "no such file"),
    (lambda p: (p.mkdir(), p)[1], "is a directory"),
    (lambda p: (p.write_text(""), p)[1], "empty"),
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
    assert "0 data row(s); at least 20" in report.error_message()


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
    (good_table().rename(columns={"TV": "tv"}), "column present", "column 'TV' is missing"),
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
