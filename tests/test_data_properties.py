"""Property tests: random tables and random files never crash the validator, and it accepts exactly
the tables that keep every rule, the rules being checked here independently of tvsales.data."""

import math
import re

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tvsales.data import validate_file, validate_table

FEATURE, TARGET = "TV", "Sales"
LARGEST = 1e12  # the documented bound (README, "What validate checks")
NAMES = ["TV", "Sales", "tv", " TV ", "SALES ", "Radio", ""]
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
JUNK = ["", "  ", "abc", "NA", "nan", "inf", "-inf", "1e400", "-1", "$5", "5%", "1,234.5", "1 234",
        "True", "0x10", "1_000", "7.5.1", "--2", "١٢"]

floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0.0, -0.0, 1.5, 230.1, LARGEST, 1.0000001 * LARGEST]))
texts = st.one_of(floats.map(repr), floats.map(lambda v: f" {v:.3f} "),
                  floats.map(lambda v: repr(v).replace(".", ",")), st.sampled_from(JUNK))
CELLS = {
    "float64": floats,
    "int64": st.integers(-10, 10**13),
    "Int64": st.one_of(st.integers(-10, 10**13), st.none()),
    "object": st.one_of(floats, st.integers(-10, 10**13), texts, st.none(), st.booleans()),
    "str": st.one_of(texts, st.none()),
    "bool": st.booleans(),
    "datetime64[ns]": st.integers(0, 2**62).map(lambda ns: pd.Timestamp(ns)),
    "category": texts,
}
WRONG_TYPES = {"bool", "datetime64[ns]", "category"}


KINDS = ["float64"] * 3 + ["int64", "Int64", "object", "object", "str", "str"] + sorted(WRONG_TYPES)


def good_cells(kind, decimal):
    """Cells that keep every rule, written the way a column of ``kind`` holds them."""
    number = st.floats(0, 300, allow_nan=False).map(lambda v: round(v, 1))
    text = number.map(lambda v: f" {v} ".replace(".", decimal))
    if kind in WRONG_TYPES:
        return CELLS[kind]
    return {"float64": number, "int64": number.map(int), "Int64": number.map(int), "str": text,
            "object": st.one_of(number, number.map(int), text)}[kind]


@st.composite
def tables(draw, decimal):
    """A random table: mostly a good TV and Sales, then a few things broken at random (a cell, a
    dtype, a name, a duplicated or missing column, a constant column, extra columns)."""
    n_rows = draw(st.integers(0, 30))

    def column(name):
        kind = draw(st.sampled_from(KINDS))
        cells = draw(st.lists(good_cells(kind, decimal), min_size=n_rows, max_size=n_rows))
        if n_rows and draw(st.integers(0, 3)) == 0:
            for _ in range(draw(st.integers(1, 3))):
                cells[draw(st.integers(0, n_rows - 1))] = draw(CELLS[kind])
        if n_rows and draw(st.integers(0, 9)) == 0:
            cells = [cells[0]] * n_rows
        return name, kind, cells

    columns = [column(draw(st.sampled_from(["TV", " TV ", "tv"]))),
               column(draw(st.sampled_from(["Sales", "SALES "])))]
    if draw(st.integers(0, 9)) == 0:
        columns.pop(draw(st.integers(0, 1)))
    columns += [column(draw(st.sampled_from(NAMES))) for _ in range(draw(st.integers(0, 2)))]
    columns = draw(st.permutations(columns))
    table = pd.DataFrame({i: pd.Series(cells, dtype="object" if kind == "str" else kind)
                          for i, (_, kind, cells) in enumerate(columns)}, index=range(n_rows))
    for i, (_, kind, cells) in enumerate(columns):
        if kind == "str":
            table[i] = pd.Series(cells, dtype="str")
    table.columns = [name for name, _, _ in columns]
    return table, columns


def empty(cell, kind):
    """A cell that counts as blank: missing, or text of spaces only (in a text column)."""
    if cell is None or cell is pd.NA or (isinstance(cell, float) and math.isnan(cell)):
        return True
    return kind in {"object", "str"} and isinstance(cell, str) and not cell.strip()


def text_value(text, decimal):
    text = text.strip()
    if decimal == ",":
        if "." in text:
            return None
        text = text.replace(",", ".")
    return float(text) if NUMBER.fullmatch(text) else None


def cell_value(cell, kind, decimal):
    """The number a cell holds by the rules, or None (missing, not a number, wrong type)."""
    if kind in WRONG_TYPES or empty(cell, kind) or isinstance(cell, bool):
        return None
    if isinstance(cell, str):
        return text_value(cell, decimal)
    return float(cell)


def expected_outcome(columns, n_rows, min_rows, decimal):
    """``(passes, {column: values})`` by the rules, computed from the drawn cells."""
    kept = [row for row in range(n_rows)
            if not all(empty(cells[row], kind) for _, kind, cells in columns)]
    passes, values = len(kept) >= min_rows, {}
    for wanted in (FEATURE, TARGET):
        found = [c for c in columns if c[0].strip().casefold() == wanted.casefold()]
        if len(found) != 1:
            passes = False
            continue
        _, kind, cells = found[0]
        numbers = [cell_value(cells[row], kind, decimal) for row in kept]
        if not all(v is not None and math.isfinite(v) and 0 <= v <= LARGEST for v in numbers):
            passes = False
        elif len(set(numbers)) < 2:
            passes = False
        values[wanted] = numbers
    return passes, values


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=st.sampled_from([".", ","]).flatmap(lambda mark: st.tuples(st.just(mark), tables(mark))),
       min_rows=st.integers(3, 12))
def test_validator_accepts_exactly_the_tables_that_keep_every_rule(drawn, min_rows):
    decimal, (table, columns) = drawn
    report, clean = validate_table(table, FEATURE, TARGET, min_rows, "random.csv", decimal)
    passes, values = expected_outcome(columns, len(table), min_rows, decimal)
    event("accepted" if passes else "refused")
    assert report.passed is passes, (report.to_dict(), columns)
    if passes:
        assert clean[FEATURE].tolist() == values[FEATURE] and clean[TARGET].tolist() == values[TARGET]
        assert list(clean.dtypes) == [np.float64, np.float64]
    else:
        assert clean is None and report.problems
        message = report.error_message()
        assert message.startswith("random.csv: the data failed validation")
        assert all(problem["message"] in message for problem in report.problems)


@st.composite
def csv_files(draw):
    """The bytes of a CSV-like file: a header, lines of random (mostly good) cells, random separator,
    line ending, encoding, and sometimes a line with too many or too few cells."""
    separator = draw(st.sampled_from([",", ";", "\t"]))
    header = draw(st.sampled_from(["TV{0}Sales", "tv{0}Sales{0}Radio", "TV{0}TV{0}Sales", "Sales{0}TV"]))
    width = header.count("{0}") + 1
    cell = st.one_of(st.floats(0, 300, allow_nan=False).map(lambda v: str(round(v, 1))),
                     st.integers(0, 500).map(str))
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=30))
    if rows and draw(st.integers(0, 2)) == 0:  # a cell of any kind
        draw(st.sampled_from(rows))[draw(st.integers(0, width - 1))] = draw(texts)
    lines = [separator.join(row) for row in rows]
    if lines and draw(st.integers(0, 4)) == 0:  # a line with one cell too many or too few
        ragged = draw(st.lists(cell, min_size=width - 1, max_size=width + 1).map(separator.join))
        lines.insert(draw(st.integers(0, len(lines))), ragged)
    text = draw(st.sampled_from(["\n", "\r\n"])).join([header.format(separator), *lines]) + "\n"
    return text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"])))


@settings(max_examples=200, deadline=None)
@given(data=st.one_of(st.binary(max_size=300),
                      st.text("TVSales,;\t\"\r\n 0123456789.e-+$%abc", max_size=300).map(str.encode),
                      csv_files(), csv_files()),
       suffix=st.sampled_from([".csv", ".tsv", ".parquet", ".csv.gz", ".zip", ".txt"]),
       decimal=st.sampled_from([".", ","]))
def test_any_file_gives_a_report_and_a_passing_one_keeps_every_rule(tmp_path_factory, data, suffix,
                                                                  decimal):
    path = tmp_path_factory.mktemp("random") / f"data{suffix}"
    path.write_bytes(data)
    report, clean = validate_file(path, FEATURE, TARGET, 3, decimal=decimal)
    event("accepted" if report.passed else "refused: " + report.problems[0]["check"])
    if not report.passed:
        assert clean is None and report.error_message().startswith(f"{path}: the data failed validation")
        return
    assert len(clean) >= 3 and list(clean.dtypes) == [np.float64, np.float64]
    for column in (FEATURE, TARGET):
        values = clean[column].to_numpy()
        assert np.isfinite(values).all() and (values >= 0).all() and (values <= LARGEST).all()
        assert len(np.unique(values)) >= 2
