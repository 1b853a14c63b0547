"""Read the marketing table and check it against the schema in ``config.yaml``.

A CSV file is read as text, cell by cell, exactly as written; ``check_values`` then
parses each cell as a number with the configured decimal mark. So a cell that is not a
plain number (``230,1`` with decimal mark ``.``, ``$230.1``, ``12%``, ``1,234.5``) is
refused with its row, never misread.

Large files take a fast road to the same result: a plain UTF-8 file without quotes in its
data lines is split into text cells by pyarrow's CSV reader (the cells stay text, kept by
Arrow, not as millions of Python strings), and the cells that are plain numbers (digits, one
decimal mark, an exponent) are parsed all at once; every other cell, and every other file, is
read and parsed cell by cell as above. Both roads give the same cells, values and messages.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from tvsales.errors import PipelineError

PARQUET_SUFFIXES = {".parquet", ".pq"}
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}  # CSV, by extension
NOT_READ = {".zst": "a zstd-compressed file", ".xlsx": "an Excel workbook", ".xls": "an Excel workbook",
            ".ods": "a spreadsheet"}
FORMATS = "a CSV file (UTF-8 or UTF-16 text, plain or .gz/.bz2/.xz/.zip compressed) or a Parquet file"
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
# Larger values are refused: the metrics square them and sum the squares, which must stay far
# from float64's limit (1.8e308) and keep their precision. 1e12 thousand dollars is a quadrillion.
MAX_VALUE = 1e12
MAX_ROWS_LISTED = 10  # rows named per problem in a message; the JSON report lists them all
LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*(?:\r\n|\n|\r))+")


class ReadError(PipelineError):
    """A file that cannot be read as a table; ``reason`` is the message without the file's name."""

    def __init__(self, name, reason):
        super().__init__(f"{name}: {reason}")
        self.reason = reason


def require_file(path, name=None):
    """Raise a ReadError unless ``path`` is an existing file."""
    path = Path(path)
    if not path.exists():
        raise ReadError(name or path, "no such file; check the path (data_path, or input_path of "
                                      "predict).")
    if path.is_dir():
        raise ReadError(name or path, f"this is a directory, not a file; expected {FORMATS}.")


def read_table(path, name=None, separator="auto", decimal="."):
    """Read a CSV or Parquet file into a DataFrame, or raise a ReadError naming the file.

    A CSV file's cells are text (the header as written, duplicated names kept; blank
    lines are rows of empty cells, so rows keep their numbers); ``separator`` is
    ``auto`` (from the header line) or one of ``, ; \\t``. A Parquet file keeps its types.
    ``name`` is how the file is called in messages (defaults to ``path``).
    """
    path = Path(path)
    name = name or str(path)
    require_file(path, name)
    suffix = path.suffix.lower()
    if suffix in NOT_READ:
        raise ReadError(name, f"the file is {NOT_READ[suffix]}, which is not read; expected {FORMATS}.")
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path, name)
    return _read_csv(path, name, separator, decimal)


def _read_parquet(path, name):
    import pandas as pd
    import pyarrow

    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError, pyarrow.ArrowException) as error:
        raise ReadError(name, f"the file cannot be read as Parquet: {error}") from None
    table = table.reset_index(drop=True)
    table.attrs.update(format="parquet", read_as="Parquet")
    return table


def _read_csv(path, name, separator, decimal):
    import io

    import pandas as pd

    data = _file_bytes(path, name)
    fast = _read_plain_csv(data, name, separator, decimal)
    if fast is not None:
        return fast
    text, encoding = _decode(data, name)
    del data
    leading = LEADING_BLANK_LINES.match(text)
    text = text[leading.end():] if leading else text
    if not text.strip():
        raise ReadError(name, "the file is empty; expected a header line (the column names) and "
                              "one line per row.")
    header = _first_line(text)
    separator = separator_of(header, separator, decimal, name)
    try:
        cells = pd.read_csv(io.StringIO(text), sep=separator, header=None, dtype=str,
                            keep_default_na=False, na_filter=False, skip_blank_lines=False)
    except pd.errors.ParserError as error:
        raise ReadError(name, _ragged(str(error), separator, leading)) from None
    table = cells.iloc[1:].reset_index(drop=True)
    table.columns = list(cells.iloc[0])
    read_as = f"{SEPARATOR_NAMES[separator]}-separated text ({encoding}), decimal mark '{decimal}'"
    table.attrs.update(format="csv", read_as=read_as)
    return table


def _first_line(text):
    """The first line of ``text`` as ``str.splitlines`` sees it, without splitting all of ``text``."""
    end = 0
    while True:
        end = min(len(text), end + 4096)
        lines = text[:end].splitlines()
        if len(lines) > 1 or end == len(text):
            return lines[0] if lines else ""


LEADING_BLANK_BYTES = re.compile(rb"\A(?:[ \t]*(?:\r\n|\n|\r))+")
LINE_END = re.compile(rb"\r\n|\n|\r")


def _read_plain_csv(data, name, separator, decimal):
    """The fast road of ``_read_csv``: the same table, or None when the file needs the careful road.

    Taken by UTF-8 files without NUL characters whose data lines hold no quote character
    and have as many cells as the header; pyarrow then splits the lines into text cells
    exactly as pandas' parser does. Any doubt (another encoding, a quote, a ragged line,
    text that is not UTF-8) leaves the file to the careful road, which says what is wrong.
    """
    import codecs
    import io

    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE,
                        codecs.BOM_UTF16_BE)) or b"\x00" in data:
        return None
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    leading = LEADING_BLANK_BYTES.match(data, start)
    start = leading.end() if leading else start
    line_end = LINE_END.search(data, start)
    if line_end is None:
        return None
    try:
        header = data[start:line_end.start()].decode("utf-8")
    except UnicodeDecodeError:
        return None
    body_start = line_end.end()
    if header.splitlines() != [header] or not header.strip() or data.find(b'"', body_start) >= 0:
        return None
    separator = separator_of(header, separator, decimal, name)
    try:  # the header as the careful road reads it (quotes and all)
        names = pd.read_csv(io.StringIO(header), sep=separator, header=None, dtype=str, keep_default_na=False,
                            na_filter=False).iloc[0].tolist()
    except (pd.errors.ParserError, ValueError):
        return None
    columns = [f"c{i}" for i in range(len(names))]
    try:
        cells = pa_csv.read_csv(
            pa.py_buffer(data).slice(body_start),  # the data lines, not copied
            read_options=pa_csv.ReadOptions(column_names=columns),
            parse_options=pa_csv.ParseOptions(delimiter=separator, quote_char=False,
                                              ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(column_types={c: pa.string() for c in columns},
                                                  null_values=[], strings_can_be_null=False,
                                                  check_utf8=True))
    except (pa.ArrowException, ValueError):
        return None
    table = pd.DataFrame({position: pd.Series(pd.arrays.ArrowStringArray(cells.column(position)),
                                              dtype="str", copy=False)
                          for position in range(len(columns))})
    del cells
    table.columns = names
    table.attrs.update(format="csv", read_as=f"{SEPARATOR_NAMES[separator]}-separated text (UTF-8), "
                                             f"decimal mark '{decimal}'")
    return table


def _file_bytes(path, name):
    """The file's bytes, decompressed when its extension says so."""
    import bz2
    import gzip
    import lzma
    import zipfile
    import zlib

    suffix = path.suffix.lower()
    try:
        if suffix == ".gz":
            return gzip.decompress(path.read_bytes())
        if suffix == ".bz2":
            return bz2.decompress(path.read_bytes())
        if suffix == ".xz":
            return lzma.decompress(path.read_bytes())
        if suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                members = [member for member in archive.infolist() if not member.is_dir()]
                if len(members) != 1:
                    raise ReadError(name, f"the file is a zip archive of {len(members)} files; it must hold "
                                          "exactly one CSV file.")
                return archive.read(members[0])
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, zlib.error) as error:
        raise ReadError(name, f"the file cannot be decompressed as {COMPRESSIONS[suffix]} (its extension is "
                              f"{suffix}): {error}") from None
    return path.read_bytes()


def _decode(data, name):
    """``(text, encoding)``: UTF-32/UTF-16 when the data starts with their byte-order mark, else UTF-8."""
    import codecs

    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "UTF-32"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "UTF-16"
    else:
        encoding = "UTF-8"
    try:
        text = data.decode("utf-8-sig" if encoding == "UTF-8" else encoding)
    except UnicodeDecodeError as error:
        raise ReadError(name, f"the file is not {encoding} text (byte {data[error.start]:#04x} at position "
                              f"{error.start}); expected {FORMATS}. Save it as \"CSV UTF-8\".") from None
    if "\x00" in text:
        raise ReadError(name, "the file contains NUL characters: it is not a text file, or UTF-16 without a "
                              f"byte-order mark; expected {FORMATS}.")
    return text, encoding


def separator_of(header, separator, decimal, name):
    """The CSV separator: ``separator`` if set, else the one of , ; tab the header line uses most."""
    if separator == "auto":
        unquoted = re.sub(r'"[^"]*"', "", header)
        counts = {candidate: unquoted.count(candidate) for candidate in SEPARATOR_NAMES}
        most = max(counts.values())
        found = [candidate for candidate, count in counts.items() if count == most]
        if most and len(found) > 1:
            tie = " and ".join(SEPARATOR_NAMES[candidate] + "s" for candidate in found)
            raise ReadError(name, f"cannot tell the separator from the header line {header!r}: it has "
                                  f"as many {tie}. Set data.separator in config.yaml.")
        separator = found[0] if most else ("," if decimal != "," else ";")
    if separator == "," and decimal == ",":
        raise ReadError(name, f"the header line {header!r} is comma-separated, but data.decimal in "
                              "config.yaml is ','; a comma cannot both separate cells and mark decimals. "
                              "Set data.decimal: \".\", or save the file with ';' as separator.")
    return separator


def _ragged(error, separator, leading):
    """A parser error about a line with too many cells, in the user's terms."""
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", error)
    if not match:
        return f"the file cannot be read as CSV: {error}"
    expected, line, saw = map(int, match.groups())
    line += leading.group().count("\n") if leading else 0
    hint = ("A decimal comma (230,1) in a comma-separated file splits a value in two: write 230.1, "
            "quote the value, or save the file with ';' as separator and set data.decimal: \",\"."
            if separator == "," else "Check data.separator in config.yaml and the file's quoting.")
    return (f"line {line} of the file has {saw} cells but the header has {expected} "
            f"({SEPARATOR_NAMES[separator]}-separated). {hint}")


@dataclass
class ValidationReport:
    """What ``validate_table`` checked and found; ``problems`` empty means the table passed."""

    source: str
    n_rows: int
    n_columns: int
    checks: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @classmethod
    def unreadable(cls, source, reason):
        """The report on a file that could not be read at all."""
        report = cls(source=source, n_rows=0, n_columns=0)
        report.check("readable", None, False, reason)
        return report

    @property
    def passed(self):
        return not self.problems

    def check(self, name, column, rows_or_ok, message):
        """Record a check: ``rows_or_ok`` is True/False or the row numbers that break it."""
        if isinstance(rows_or_ok, bool):
            passed, rows = rows_or_ok, []
        else:
            rows = [int(row) for row in rows_or_ok]
            passed = not rows
        self.checks.append({"check": name, "column": column, "passed": passed})
        if not passed:
            self.problems.append({"check": name, "column": column, "rows": rows, "message": message})

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


def validate_file(path, feature, target, min_rows, separator="auto", decimal=".", name=None):
    """Read and check a data file: ``(report, clean)`` as ``validate_table``; an unreadable
    file gives a failed report too."""
    name = name or str(path)
    try:
        table = read_table(path, name, separator, decimal)
    except ReadError as error:
        return ValidationReport.unreadable(name, error.reason), None
    report, clean = validate_table(table, feature, target, min_rows, name, decimal)
    report.notes.insert(0, f"read as {table.attrs['read_as']}")
    return report, clean


def validate_table(table, feature, target, min_rows, source="the table", decimal="."):
    """Check ``table`` and return ``(report, clean)``.

    ``clean`` holds the ``feature`` and ``target`` columns as float64 when the report
    passed, else None. Rows in messages are counted from 1 at the first data row; rows
    whose every cell is empty (blank lines) are left out, and noted.
    """
    import numpy as np
    import pandas as pd

    report = ValidationReport(source=source, n_rows=len(table), n_columns=table.shape[1])
    columns = [str(c) for c in table.columns]
    blank = blank_rows(table)
    kept = np.flatnonzero(~blank)
    report.n_rows = len(kept)
    if blank.any():
        report.notes.append(f"ignored {int(blank.sum())} blank row(s): "
                            f"{_numbers(np.flatnonzero(blank) + 1)}.")
    rows = table.iloc[kept] if blank.any() else table  # no copy of a table without blank rows
    numeric = {}
    for column in (feature, target):
        position, check, message = locate(columns, column)
        if position is None:
            report.check(check, column, False, message)
            continue
        report.check("column present", column, True, "")
        if message:
            report.notes.append(message)
        if table.attrs.get("format") != "csv" and _is_text(table.iloc[:, position]):
            report.notes.append(f"column '{column}' holds text ({table.iloc[:, position].dtype}); its "
                                f"cells were read as numbers with decimal mark '{decimal}'.")
        values, found = check_values(rows.iloc[:, position], column, decimal, kept + 1)
        for name, bad_rows, text in found:
            report.check(name, column, bad_rows, text)
        numeric[column] = values.to_numpy()

    if len(kept) == 0:
        enough = f"the table has a header but no data rows; at least {min_rows} are needed."
    else:
        enough = (f"the table has {len(kept)} data row(s); at least {min_rows} are needed to split, "
                  "fit and evaluate (data.min_rows in config.yaml).")
    report.check("enough rows", None, len(kept) >= min_rows, enough)

    wanted = {feature.casefold(), target.casefold()}
    extra = [name for name in columns if name.strip().casefold() not in wanted]
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
    why = {feature: "no slope can be fitted to it",
           target: "there is nothing to predict (R² is undefined)"}
    for column in (feature, target):
        report.check("varies", column, varies(clean[column]),
                     f"column '{column}' has the same value ({clean[column].iloc[0]:g}) in every row; "
                     f"{why[column]}.")
    if not report.passed:
        return report, None
    return report, clean


def varies(values):
    """True when ``values`` (a Series without missing values) holds at least two different values."""
    array = values.to_numpy()
    return bool(len(array)) and bool((array != array[0]).any())


def locate(columns, wanted):
    """``(position, check, message)`` of column ``wanted`` among the header's ``columns``.

    Names are compared ignoring surrounding spaces and case. When exactly one column
    matches, ``position`` is its index and ``message`` a note if its name differs (else
    empty); otherwise ``position`` is None and ``check`` and ``message`` name the problem.
    """
    matches = [i for i, name in enumerate(columns) if name.strip().casefold() == wanted.casefold()]
    if not matches:
        return None, "column present", (
            f"column '{wanted}' is missing; the file has {columns}. "
            "Rename the column or set data.feature / data.target in config.yaml.")
    if len(matches) > 1:
        named = ", ".join(f"{columns[i]!r} (column {i + 1})" for i in matches)
        return None, "column named once", (
            f"column '{wanted}' appears {len(matches)} times in the header: {named}; names are "
            "compared ignoring case and surrounding spaces. Keep one and rename the others.")
    name = columns[matches[0]]
    note = "" if name == wanted else f"column {name!r} is read as '{wanted}' (names are compared " \
                                     "ignoring case and surrounding spaces)."
    return matches[0], "column present", note


def blank_rows(table):
    """Mask of the rows whose every cell is empty (missing, or text of spaces only)."""
    import numpy as np

    blank = np.ones(len(table), dtype=bool)
    for position in range(table.shape[1]):
        if not blank.any():  # no row can be blank any more: the other columns need no look
            break
        column = table.iloc[:, position]
        empty = column.isna().to_numpy(dtype=bool)
        if _is_arrow_text(column):
            empty = empty | _blank_text(column)
        elif _is_text(column):
            empty = empty | column.map(lambda cell: isinstance(cell, str) and not cell.strip()).to_numpy(
                dtype=bool)
        blank &= empty
    return blank


# A plain number by decimal mark: digits, one decimal mark, an exponent, spaces or tabs around.
# Cells like these are parsed all at once (pyarrow); any other cell is parsed on its own.
PLAIN_NUMBER = {mark: rf"^[ \t]*[+-]?(?:\d{{1,20}}(?:{re.escape(mark)}\d{{0,20}})?|{re.escape(mark)}\d{{1,20}})"
                      r"(?:[eE][+-]?\d{1,4})?[ \t]*$" for mark in (".", ",")}


def _is_arrow_text(column):
    """True for a pandas string column kept by Arrow (what read_table makes of a CSV column)."""
    import pandas as pd

    return isinstance(column.array, pd.arrays.ArrowStringArray)


def _blank_text(column):
    """Mask of the cells of an Arrow text column that Python's ``str.strip()`` leaves empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(column.array)
    blank = pc.or_(pc.equal(pc.utf8_length(text), 0), pc.utf8_is_space(text))  # isspace's characters
    return pc.fill_null(blank, False).to_numpy(zero_copy_only=False)


def _matches(column, pattern):
    """Mask of the cells of an Arrow text column that match regular expression ``pattern`` (RE2)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.fill_null(pc.match_substring_regex(pa.array(column.array), pattern), False)
    return found.to_numpy(zero_copy_only=False)


def input_values(table, feature, decimal=".", source="the input"):
    """``(rows, values)`` of a table to score: its non-blank rows, and their ``feature`` column
    as float64, checked like ``validate`` checks it; else a PipelineError naming every problem."""
    import numpy as np

    blank = blank_rows(table)
    kept = np.flatnonzero(~blank)
    rows = table.iloc[kept].reset_index(drop=True) if blank.any() else table.reset_index(drop=True)
    position, _, message = locate([str(c) for c in table.columns], feature)
    if position is None:
        raise PipelineError(f"{source}: {message}")
    values, found = check_values(rows.iloc[:, position], feature, decimal, kept + 1)
    problems = [text for _, bad_rows, text in found if bad_rows]
    if not rows.shape[0]:
        problems.append("no rows to score.")
    if problems:
        raise PipelineError(f"{source}: cannot be scored ({len(problems)} problem(s)):\n"
                            + "\n".join(f"  - {problem}" for problem in problems))
    return rows, values.to_numpy()


VALUE_CHECKS = ("numeric", "no missing values", "finite", "non-negative", "not too large")


def check_values(raw, column, decimal=".", row_numbers=None):
    """Parse one column as numbers and check every value.

    Returns ``(values, found)``: the column as a float64 Series (NaN where a cell is missing
    or not a number) and one ``(check, rows, message)`` per check in VALUE_CHECKS, with
    ``rows`` the numbers of the rows that break it (empty when it holds). ``row_numbers``
    gives each cell's row number (default: 1, 2, ...). A column whose type cannot hold
    numbers (true/false, dates) fails "numeric" in every row.
    """
    import numpy as np
    import pandas as pd

    numbers = np.arange(1, len(raw) + 1) if row_numbers is None else np.asarray(row_numbers)
    wrong = _wrong_type(raw)
    if wrong:
        message = (f"column '{column}' holds {wrong}, not numbers, in every row; store it as numbers "
                   "(float or integer).")
        every_row = [int(number) for number in numbers]
        return pd.Series(np.nan, index=raw.index, dtype="float64"), [("numeric", every_row, message)]
    values, missing = to_numbers(raw, decimal)
    cells = _Cells(raw)
    finite = np.isfinite(values)
    broken = {
        "numeric": np.flatnonzero(~missing & np.isnan(values)),
        "no missing values": np.flatnonzero(missing),
        "finite": np.flatnonzero(np.isinf(values)),
        "non-negative": np.flatnonzero(finite & (values < 0)),
        "not too large": np.flatnonzero(finite & (values > MAX_VALUE)),
    }
    found = []
    for name in VALUE_CHECKS:
        positions = broken[name]
        if name == "numeric":
            message = (_cells(column, positions, numbers, cells, "is not a number")
                       + _format_hints(positions, numbers, cells, decimal))
        elif name == "no missing values":
            message = f"column '{column}': missing value in row(s) {_numbers(numbers[positions])}."
        elif name == "finite":
            message = _cells(column, positions, numbers, cells, "is not finite")
        elif name == "non-negative":
            message = _cells(column, positions, numbers, cells, "is negative", quoted=False)
        else:
            message = (_cells(column, positions, numbers, cells, f"is larger than {MAX_VALUE:.0e}"
                              .replace("+", ""), quoted=False)
                       + " Values this large overflow the metrics; check the column's unit.")
        found.append((name, [int(number) for number in numbers[positions]], message))
    return pd.Series(values, index=raw.index), found


def to_numbers(raw, decimal="."):
    """``(values, missing)`` of a column: float64 values (NaN where a cell is missing or not a
    number) and the mask of missing cells (None, NaN, or text of spaces only).

    Text is parsed by pandas after stripping spaces; with decimal mark ``,`` a cell's comma
    becomes the decimal point and a cell holding a ``.`` is not a number.
    """
    import numpy as np
    from pandas.api import types

    if types.is_numeric_dtype(raw.dtype) and not types.is_bool_dtype(raw.dtype):
        values = raw.astype("float64").to_numpy()
        return values, np.isnan(values)
    if _is_arrow_text(raw):
        return _text_to_numbers(raw, decimal)
    return _cells_to_numbers(raw.to_numpy(dtype=object), decimal)


def _text_to_numbers(raw, decimal):
    """``to_numbers`` of an Arrow text column: plain numbers parsed by pyarrow at once, other cells one by one."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if decimal == ".":  # the common case: every cell a number as pyarrow reads them, as pandas would
        text = pa.array(raw.array)
        try:
            parsed = pc.cast(text, pa.float64())
        except pa.ArrowInvalid:  # some cell is not: sort the cells out below
            pass
        else:
            return (parsed.to_numpy(zero_copy_only=False),
                    text.is_null().to_numpy(zero_copy_only=False))
    plain = _matches(raw, PLAIN_NUMBER[decimal])
    values = np.full(len(raw), np.nan)
    missing = np.zeros(len(raw), dtype=bool)
    if plain.any():
        text = pc.utf8_trim(pc.filter(pa.array(raw.array), pa.array(plain)), " \t")
        if decimal == ",":
            text = pc.replace_substring(text, ",", ".")
        values[plain] = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    others = np.flatnonzero(~plain)
    if others.size:
        values[others], missing[others] = _cells_to_numbers(raw.iloc[others].to_numpy(dtype=object), decimal)
    return values, missing


def _cells_to_numbers(cells, decimal):
    """``to_numbers`` of an array of Python objects, cell by cell."""
    import decimal as decimals
    import numbers

    import numpy as np
    import pandas as pd

    values = np.full(len(cells), np.nan)
    missing = np.zeros(len(cells), dtype=bool)
    text_positions, texts = [], []
    for position, cell in enumerate(cells):
        if isinstance(cell, str):
            if cell.strip():
                text_positions.append(position)
                texts.append(cell.strip())
            else:
                missing[position] = True
        elif isinstance(cell, (numbers.Real, decimals.Decimal)) and not isinstance(cell, (bool, np.bool_)):
            values[position] = _as_float(cell)
            missing[position] = np.isnan(values[position])
        elif cell is None or cell is pd.NA or cell is pd.NaT:
            missing[position] = True
    if texts:
        text = pd.Series(texts, dtype=object)
        if decimal == ",":
            text = text.mask(text.str.contains(".", regex=False), "").str.replace(",", ".", regex=False)
        values[text_positions] = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")
    return values, missing


class _Cells:
    """The cells of a column as Python objects, fetched only for the rows a message names."""

    def __init__(self, column):
        self.column = column

    def __getitem__(self, position):
        return self.column.iloc[int(position)]

    def take(self, positions):
        return self.column.iloc[positions].to_numpy(dtype=object)


def _as_float(number):
    try:
        return float(number)
    except OverflowError:  # an integer beyond float64
        return float("inf") if number > 0 else float("-inf")


def _is_text(column):
    from pandas.api import types

    return types.is_object_dtype(column.dtype) or types.is_string_dtype(column.dtype)


def _wrong_type(raw):
    """What ``raw`` holds when its type cannot hold numbers (e.g. "dates (datetime64[ns])"), else None."""
    import pandas as pd
    from pandas.api import types

    dtype = raw.dtype
    if types.is_bool_dtype(dtype):
        return f"true/false values ({dtype})"
    if types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
        return f"dates ({dtype})"
    if types.is_timedelta64_dtype(dtype):
        return f"durations ({dtype})"
    if types.is_complex_dtype(dtype):
        return f"complex numbers ({dtype})"
    if types.is_numeric_dtype(dtype) or _is_text(raw):
        return None
    return f"{dtype} values"


CURRENCY = re.compile(r"[$€£¥₹¢]|\b(?:USD|EUR|GBP|JPY|CHF)\b", re.IGNORECASE)
NUMBER_LIKE = re.compile(r"[+-]?[\d.,' \u00a0\u202f]*\d[\d.,' \u00a0\u202f]*")
FORMAT_HINTS = {
    "currency": "A currency symbol or code ({example}) is not accepted: write plain numbers, in the "
                "column's unit.",
    "percent": "A percent sign ({example}) is not accepted: write plain numbers.",
    "comma": "A comma inside a number ({example}) is a decimal comma or a thousands separator: if commas "
             "mark decimals, set data.decimal: \",\" in config.yaml; thousands separators are not "
             "accepted, remove them.",
    "point": "A point inside a number ({example}) while data.decimal is \",\" in config.yaml: thousands "
             "separators are not accepted, remove them; if points mark decimals, set data.decimal: \".\".",
    "grouping": "Spaces or apostrophes inside a number ({example}) are thousands separators, which are "
                "not accepted: remove them.",
}


def _format_problem(cell, decimal):
    """Which number format ``cell`` seems to use that is not accepted (a FORMAT_HINTS key), or None."""
    text = cell.strip()
    if CURRENCY.search(text):
        return "currency"
    if "%" in text:
        return "percent"
    if NUMBER_LIKE.fullmatch(text):
        if "," in text and decimal != ",":
            return "comma"
        if "." in text and decimal == ",":
            return "point"
        if re.search(r"[' \u00a0\u202f]", text):
            return "grouping"
    return None


def _format_hints(positions, numbers, cells, decimal):
    """Sentences saying which unaccepted number formats the bad cells use, with an example row each."""
    hints = {}
    for position, cell in zip(positions, cells.take(positions)):
        kind = _format_problem(cell, decimal) if isinstance(cell, str) else None
        if kind and kind not in hints:
            hints[kind] = FORMAT_HINTS[kind].format(example=f"row {numbers[position]}: {cell.strip()!r}")
    return "".join(" " + hint for hint in hints.values())


def _numbers(row_numbers):
    shown = ", ".join(str(number) for number in row_numbers[:MAX_ROWS_LISTED])
    more = len(row_numbers) - MAX_ROWS_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _cells(column, positions, numbers, cells, what, quoted=True):
    listed = ", ".join(f"row {numbers[p]} ({_show(cells[p], quoted)})" for p in positions[:MAX_ROWS_LISTED])
    more = len(positions) - MAX_ROWS_LISTED
    return f"column '{column}': value {what} in {listed}{f' and {more} more' if more > 0 else ''}."


def _show(cell, quoted=True):
    """A cell as the user wrote it: text quoted (or stripped, when it is a number), numbers plain."""
    if isinstance(cell, str):
        return repr(cell) if quoted else cell.strip()
    return str(cell)
