"""Read the marketing table and check it against the schema in ``config.yaml``."""

from dataclasses import dataclass, field
from pathlib import Path

from tvsales.errors import PipelineError

PARQUET_SUFFIXES = {".parquet", ".pq"}
MAX_ROWS_LISTED = 10  # rows named per problem in a message; the JSON report lists them all


def read_table(path, name=None):
    """Read a CSV or Parquet file into a DataFrame, or raise a PipelineError naming the file.

    ``name`` is how the file is called in messages (defaults to ``path``).
    """
    import pandas as pd

    path = Path(path)
    name = name or str(path)
    if not path.exists():
        raise PipelineError(f"{name}: no such file. Check the data_path parameter.")
    if path.is_dir():
        raise PipelineError(f"{name}: is a directory; data_path must name a CSV or Parquet file.")
    suffixes = [suffix.lower() for suffix in path.suffixes]
    try:
        if suffixes and suffixes[-1] in PARQUET_SUFFIXES:
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise PipelineError(f"{name}: the file is empty; expected a header row and data.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as error:
        raise PipelineError(f"{name}: cannot be read as {_kind(suffixes)}: {error}") from None


def _kind(suffixes):
    return "Parquet" if suffixes and suffixes[-1] in PARQUET_SUFFIXES else "CSV"


@dataclass
class ValidationReport:
    """What ``validate_table`` checked and found; ``problems`` empty means the table passed."""

    source: str
    n_rows: int
    n_columns: int
    checks: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def passed(self):
        return not self.problems

    def to_dict(self):
        return {
            "source": self.source,
            "passed": self.passed,
            "n_rows": self.n_rows,
            "n_columns": self.n_columns,
            "checks": self.checks,
            "problems": self.problems,
            "notes": self.notes,
        }

    def error_message(self):
        """One message naming every problem (column, rows, values)."""
        lines = [f"{self.source}: the data failed validation ({len(self.problems)} problem(s)):"]
        lines += [f"  - {problem['message']}" for problem in self.problems]
        return "\n".join(lines)

    def to_markdown(self):
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [
            f"# Validation report: {verdict}",
            "",
            f"Source: `{self.source}`, {self.n_rows} rows, {self.n_columns} columns.",
            "",
            "| check | column | result |",
            "|---|---|---|",
        ]
        lines += [
            f"| {check['check']} | {check['column'] or '-'} | {'ok' if check['passed'] else 'FAILED'} |"
            for check in self.checks
        ]
        if self.problems:
            lines += ["", "## Problems", ""] + [f"- {p['message']}" for p in self.problems]
        if self.notes:
            lines += ["", "## Notes", ""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def validate_table(table, feature, target, min_rows, source="the table"):
    """Check ``table`` and return ``(report, clean)``.

    ``clean`` holds the ``feature`` and ``target`` columns as float64 when the report
    passed, else None. Rows in messages are counted from 1 at the first data row.
    """
    import pandas as pd

    report = ValidationReport(source=source, n_rows=len(table), n_columns=table.shape[1])

    def check(name, column, rows_or_ok, describe):
        """Record a check; ``rows_or_ok`` is True/False or the list of offending row positions."""
        if isinstance(rows_or_ok, bool):
            passed, rows = rows_or_ok, []
        else:
            rows = list(rows_or_ok)
            passed = not rows
        report.checks.append({"check": name, "column": column, "passed": passed})
        if not passed:
            report.problems.append(
                {"check": name, "column": column, "rows": [r + 1 for r in rows],
                 "message": describe(rows)}
            )

    columns = [str(c) for c in table.columns]
    duplicated_names = sorted({c for c in columns if columns.count(c) > 1})
    check("unique column names", None, not duplicated_names,
          lambda _: f"column name(s) {', '.join(map(repr, duplicated_names))} appear more than once "
                    "in the header; each column needs a unique name.")
    numeric = {}
    for column in (feature, target):
        check("column present", column, column in columns,
              lambda _, c=column: f"column '{c}' is missing; the file has {columns}. "
                                  "Rename the column or set data.feature / data.target in config.yaml.")
        if columns.count(column) != 1:
            continue
        values, found = check_values(table[column], column)
        for name, rows, message in found:
            check(name, column, rows, lambda _, m=message: m)
        numeric[column] = values

    check("enough rows", None, len(table) >= min_rows,
          lambda _: f"the table has {len(table)} data row(s); at least {min_rows} are needed "
                    "(data.min_rows in config.yaml).")

    extra = [c for c in columns if c not in (feature, target)]
    if extra:
        report.notes.append(f"ignored extra column(s): {', '.join(map(repr, extra))}")
    if not report.passed:
        return report, None

    clean = pd.DataFrame({feature: numeric[feature], target: numeric[target]})
    n_duplicates = int(clean.duplicated().sum())
    report.checks.append({"check": "duplicate rows (reported, allowed)", "column": None,
                          "passed": True, "count": n_duplicates})
    if n_duplicates:
        report.notes.append(f"{n_duplicates} row(s) repeat an earlier row exactly; they are kept.")
    for column in (feature, target):
        if clean[column].nunique() < 2:
            report.problems.append({
                "check": "varies", "column": column, "rows": [],
                "message": f"column '{column}' has the same value ({clean[column].iloc[0]:g}) in "
                           "every row; a line cannot be fitted to it.",
            })
            report.checks.append({"check": "varies", "column": column, "passed": False})
    if not report.passed:
        return report, None
    return report, clean.reset_index(drop=True)


VALUE_CHECKS = ("numeric", "no missing values", "finite", "non-negative")


def check_values(raw, column):
    """Parse one column as numbers and check every value.

    Returns ``(values, found)``: the column as float64 (NaN where unparseable) and one
    ``(check, rows, message)`` per check in VALUE_CHECKS, with ``rows`` the 0-based
    positions that break it (empty when it holds).
    """
    import numpy as np
    import pandas as pd

    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    blank = (raw.isna() | raw.astype("string").str.strip().eq("")).to_numpy()
    array = values.to_numpy()
    broken = {
        "numeric": np.flatnonzero(~blank & np.isnan(array)),
        "no missing values": np.flatnonzero(blank),
        "finite": np.flatnonzero(np.isinf(array)),
        "non-negative": np.flatnonzero(array < 0),
    }
    found = []
    for name in VALUE_CHECKS:
        rows = list(broken[name])
        if name == "no missing values":
            message = _rows(column, rows, "missing value")
        else:
            what = {"numeric": "is not a number", "finite": "is not finite",
                    "non-negative": "is negative"}[name]
            message = _cells(column, rows, raw, what)
        found.append((name, rows, message))
    return values, found


def _rows(column, rows, what):
    shown = ", ".join(str(r + 1) for r in rows[:MAX_ROWS_LISTED])
    more = f" and {len(rows) - MAX_ROWS_LISTED} more" if len(rows) > MAX_ROWS_LISTED else ""
    return f"column '{column}': {what} in row(s) {shown}{more}."


def _cells(column, rows, raw, what):
    shown = ", ".join(f"row {r + 1} ({_show(raw.iloc[r])})" for r in rows[:MAX_ROWS_LISTED])
    more = f" and {len(rows) - MAX_ROWS_LISTED} more" if len(rows) > MAX_ROWS_LISTED else ""
    return f"column '{column}': value {what} in {shown}{more}."


def _show(value):
    """A cell as the user wrote it: strings quoted, numbers plain."""
    return repr(value) if isinstance(value, str) else str(value)
