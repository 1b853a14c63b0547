"""The kinds of data file users send, each written by the test, with what validate must do with it.

Shared by the quick tests of the reader (tests/test_data.py, calling tvsales.data directly)
and the end-to-end tests (tests/test_bad_input.py, through `mlflow run . -e validate`), so
both hold the product to the same expectations.

A case is accepted (``fragment`` None: the validated table must hold exactly ``TV`` and
``SALES``, the numbers the file was written from) or refused (the message must contain
``fragment``, and the failed check must be ``check``).
"""

import bz2
import codecs
import gzip
import io
import lzma
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# 24 rows (config.yaml's data.min_rows is 20), one decimal place as in the real data.
TV = [round(7.5 + 12.3 * i + 0.4 * (i % 3), 1) for i in range(24)]
SALES = [round(5.1 + 0.05 * tv + 0.7 * (i % 4), 1) for i, tv in enumerate(TV)]


def cells(tv=TV, sales=SALES, header=("TV", "Sales"), decimal="."):
    """The table as rows of text cells, header first; numbers written with ``decimal`` as decimal mark."""
    return [list(header)] + [[str(a).replace(".", decimal), str(b).replace(".", decimal)]
                             for a, b in zip(tv, sales)]


def with_cell(row, column, text, table=None):
    """``cells()`` with the cell of data row ``row`` (from 1) in ``column`` (0 TV, 1 Sales) replaced."""
    table = [list(line) for line in (table or cells())]
    table[row][column] = text
    return table


def with_column(name, values):
    """``cells()`` with one more column."""
    return [line + [str(cell)] for line, cell in zip(cells(), [name, *values])]


def csv(table=None, sep=",", newline="\n", end="\n"):
    """The text of a CSV file of ``table`` (rows of cells)."""
    table = table or cells()
    return newline.join(sep.join(line) for line in table) + end.replace("\n", newline)


def utf8(text):
    return text.encode("utf-8")


def parquet(frame):
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def zipped(data, name="data.csv"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


@dataclass
class Case:
    name: str
    filename: str
    content: bytes
    fragment: str = None          # None: accepted
    check: str = None             # the failed check of a refused case ("readable" when unreadable)
    settings: dict = field(default_factory=dict)  # data.* settings of config.yaml for this case
    end_to_end: bool = True       # also through `mlflow run` (variants of a kind already covered: quick only)
    note: str = None              # a note an accepted case must carry


GOOD = utf8(csv())
ROW1 = f"row 1: '{str(TV[0]).replace('.', ',')}'"

CASES = [
    # separators and number formats
    Case("semicolon-separated", "semicolon.csv", utf8(csv(sep=";")), note="semicolon-separated"),
    Case("tab-separated", "tab.tsv", utf8(csv(sep="\t")), note="tab-separated"),
    Case("decimal comma, data.decimal ','", "decimal_comma.csv",
         utf8(csv(cells(decimal=","), sep=";")), settings={"decimal": ","}, note="decimal mark ','"),
    Case("decimal comma, data.decimal '.'", "decimal_comma_refused.csv",
         utf8(csv(cells(decimal=","), sep=";")), f"A comma inside a number ({ROW1})", "numeric"),
    Case("decimal comma unquoted in a comma-separated file", "decimal_comma_split.csv",
         utf8(csv(with_cell(3, 0, "230,1"))), "line 4 of the file has 3 cells but the header has 2",
         "readable"),
    Case("decimal comma with comma separator set", "decimal_comma_comma.csv", GOOD,
         "is comma-separated, but data.decimal in config.yaml is ','", "readable",
         settings={"decimal": ","}, end_to_end=False),
    Case("thousands separator", "thousands.csv", utf8(csv(with_cell(2, 0, '"1,234.5"'))),
         "A comma inside a number (row 2: '1,234.5')", "numeric"),
    Case("thousands separator, decimal comma", "thousands_comma.csv",
         utf8(csv(with_cell(2, 0, "1.234,5", cells(decimal=",")), sep=";")),
         "A point inside a number (row 2: '1.234,5')",
         "numeric", settings={"decimal": ","}),
    Case("thousands separator as space", "thousands_space.csv", utf8(csv(with_cell(2, 0, "1 234"))),
         "Spaces or apostrophes inside a number (row 2: '1 234')", "numeric", end_to_end=False),
    Case("currency symbol", "currency.csv", utf8(csv(with_cell(5, 0, "$230.1"))),
         "A currency symbol or code (row 5: '$230.1')", "numeric"),
    Case("currency code", "currency_code.csv", utf8(csv(with_cell(5, 0, "230.1 EUR"))),
         "A currency symbol or code (row 5: '230.1 EUR')", "numeric", end_to_end=False),
    Case("percent sign", "percent.csv", utf8(csv(with_cell(4, 1, "12%"))),
         "column 'Sales': value is not a number in row 4 ('12%'). A percent sign", "numeric"),
    Case("separator cannot be told", "tie.csv", utf8("TV,Sales;Radio\n" + csv()[9:]),
         "cannot tell the separator from the header line 'TV,Sales;Radio'", "readable",
         end_to_end=False),
    # encodings
    Case("UTF-8 byte-order mark", "bom.csv", codecs.BOM_UTF8 + GOOD),
    Case("UTF-16 with byte-order mark (Excel 'Unicode text')", "utf16.txt",
         csv(sep="\t", newline="\r\n").encode("utf-16"), note="UTF-16"),
    Case("UTF-32 with byte-order mark", "utf32.csv", csv().encode("utf-32"), end_to_end=False),
    Case("UTF-16 without byte-order mark", "utf16_no_bom.csv", csv().encode("utf-16-le"),
         "the file contains NUL characters", "readable", end_to_end=False),
    Case("not UTF-8 (Windows-1252)", "cp1252.csv", csv(with_cell(1, 0, "230.1€")).encode("cp1252"),
         "the file is not UTF-8 text (byte 0x80 at position", "readable", end_to_end=False),
    Case("Windows line endings", "crlf.csv", utf8(csv(newline="\r\n"))),
    # shape
    Case("empty file", "empty.csv", b"", "the file is empty", "readable"),
    Case("only blank lines", "blank_lines.csv", b"\n\r\n  \n", "the file is empty", "readable",
         end_to_end=False),
    Case("header with no rows", "header_only.csv", b"TV,Sales\n",
         "the table has a header but no data rows; at least 20 are needed", "enough rows"),
    Case("trailing blank lines", "trailing_blank.csv", utf8(csv() + "\n\n,\n"),
         note="ignored 3 blank row(s): 25, 26, 27"),
    Case("blank cells", "blank_cells.csv", utf8(csv(with_cell(3, 1, ""))),
         "column 'Sales': missing value in row(s) 3.", "no missing values"),
    Case("duplicated header names", "duplicated.csv", utf8(csv(with_column("TV", TV))),
         "column 'TV' appears 2 times in the header: 'TV' (column 1), 'TV' (column 3)", "column named once"),
    Case("header names differing only in case (ambiguous)", "ambiguous.csv",
         utf8(csv(with_column("tv", TV))),
         "column 'TV' appears 2 times in the header: 'TV' (column 1), 'tv' (column 3)",
         "column named once", end_to_end=False),
    Case("extra columns", "extra.csv", utf8(csv(with_column("Radio", [1.5] * 24))),
         note="ignored extra column(s): 'Radio'"),
    Case("header differing in case and spaces", "case.csv",
         utf8(csv(cells(header=(" tv ", "SALES  ")))), note="column ' tv ' is read as 'TV'"),
    Case("missing column", "no_sales.csv", utf8(csv(cells(header=("TV", "Revenue")))),
         "column 'Sales' is missing; the file has ['TV', 'Revenue']", "column present", end_to_end=False),
    Case("too few rows to split", "few.csv", utf8(csv(cells()[:6])),
         "the table has 5 data row(s); at least 20 are needed", "enough rows"),
    Case("TV a single repeated value", "tv_constant.csv", utf8(csv(cells(tv=[100.0] * 24))),
         "column 'TV' has the same value (100) in every row; no slope can be fitted", "varies"),
    Case("constant Sales", "sales_constant.csv", utf8(csv(cells(sales=[9.5] * 24))),
         "column 'Sales' has the same value (9.5) in every row", "varies"),
    # values
    Case("text in a numeric column", "text.csv", utf8(csv(with_cell(4, 0, "abc"))),
         "column 'TV': value is not a number in row 4 ('abc').", "numeric"),
    Case("missing values (NA)", "na.csv", utf8(csv(with_cell(6, 1, "NA"))),
         "column 'Sales': value is not a number in row 6 ('NA')", "numeric", end_to_end=False),
    Case("missing values (Parquet nulls)", "missing.parquet",
         parquet(pd.DataFrame({"TV": TV, "Sales": SALES[:6] + [None] + SALES[7:]})),
         "column 'Sales': missing value in row(s) 7.", "no missing values"),
    Case("negative spend", "negative.csv", utf8(csv(with_cell(2, 0, "-17.2"))),
         "column 'TV': value is negative in row 2 (-17.2).", "non-negative"),
    Case("infinity", "infinity.csv", utf8(csv(with_cell(2, 0, "inf"))),
         "column 'TV': value is not finite in row 2 ('inf').", "finite"),
    Case("1e400", "1e400.csv", utf8(csv(with_cell(3, 1, "1e400"))),
         "column 'Sales': value is not finite in row 3 ('1e400').", "finite"),
    Case("values that overflow the metrics", "huge.csv", utf8(csv(with_cell(2, 0, "1e200"))),
         "column 'TV': value is larger than 1e12 in row 2 (1e200).", "not too large"),
    # sources read by validate
    Case("Parquet with TV as text numbers", "tv_text.parquet",
         parquet(pd.DataFrame({"TV": [str(v) for v in TV], "Sales": SALES})),
         note="column 'TV' holds text"),
    Case("Parquet with integer columns", "ints.parquet",
         parquet(pd.DataFrame({"TV": np.array(TV).round().astype("int64"),
                               "Sales": np.array(SALES).round().astype("int32")})),
         end_to_end=False),
    Case("Parquet with TV as text", "tv_words.parquet",
         parquet(pd.DataFrame({"TV": ["lots"] + [str(v) for v in TV[1:]], "Sales": SALES})),
         "column 'TV': value is not a number in row 1 ('lots')", "numeric", end_to_end=False),
    Case("Parquet with TV as timestamps", "tv_dates.parquet",
         parquet(pd.DataFrame({"TV": pd.date_range("2024-01-01", periods=24), "Sales": SALES})),
         "column 'TV' holds dates (datetime64", "numeric"),
    Case("Parquet with TV as booleans", "tv_bools.parquet",
         parquet(pd.DataFrame({"TV": [i % 2 == 0 for i in range(24)], "Sales": SALES})),
         "column 'TV' holds true/false values (bool)", "numeric"),
    Case("not a Parquet file", "broken.parquet", GOOD, "the file cannot be read as Parquet", "readable",
         end_to_end=False),
    Case("gzip-compressed CSV", "data.csv.gz", gzip.compress(GOOD)),
    Case("bzip2-compressed CSV", "data.csv.bz2", bz2.compress(GOOD), end_to_end=False),
    Case("xz-compressed CSV", "data.csv.xz", lzma.compress(GOOD), end_to_end=False),
    Case("zip-compressed CSV", "data.zip", zipped(GOOD), end_to_end=False),
    Case("corrupt gzip", "corrupt.csv.gz", GOOD, "the file cannot be decompressed as gzip", "readable",
         end_to_end=False),
    Case("Excel workbook", "data.xlsx", zipped(GOOD, "xl/workbook.xml"), "is an Excel workbook",
         "readable", end_to_end=False),
]

assert len({case.filename for case in CASES}) == len(CASES), "each case has a file name of its own"


def expected_table(case):
    """The TV and Sales an accepted case's file was written from."""
    if case.name == "Parquet with integer columns":
        return np.array(TV).round(), np.array(SALES).round()
    return np.array(TV), np.array(SALES)
