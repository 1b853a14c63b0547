"""Batch input on Apache Spark: start a session, read a CSV or Parquet input, check the feature column.

Used by ``predict`` when a Spark master is set (``prediction.spark_master`` or ``-P
spark_master``). The checks are those of the pandas path (tvsales.data.input_values),
made with Spark expressions so that the table never has to fit in one process: blank rows
are left out, and the feature column must be present, numeric, not missing, finite,
non-negative and not too large. Spark does not number rows, so a refusal gives the count
and examples of the bad values, not their row numbers. pyspark is imported here only.
"""

import contextlib
import os
import sys
from pathlib import Path

from tvsales.data import MAX_VALUE, PARQUET_SUFFIXES, locate, separator_of
from tvsales.errors import PipelineError

# A plain number as the pandas path accepts it (Java regular expressions), by decimal mark.
PLAIN_NUMBER = {".": r"^[ \t]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t]*$",
                ",": r"^[ \t]*[+-]?(\d+(,\d*)?|,\d+)([eE][+-]?\d+)?[ \t]*$"}
INFINITY = r"^[ \t]*[+-]?(?i:inf|infinity)[ \t]*$"  # read as a number by pandas, refused as not finite
BLANK = r"^[\t\n\x0B\f\r\x1C-\x1F\x85\p{Z}]*$"  # what Python's str.strip() leaves empty
VALUE_COLUMN = "__tv_sales_value"
MAX_EXAMPLES = 10
NOT_NUMBERED = "Spark does not number rows: run predict without spark_master to have them listed"


def start_session(master, app_name="tv-sales-predict"):
    """A SparkSession on ``master``; on a local master its Python workers use this interpreter."""
    if is_local(master):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # one machine: no lookup of its address
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise PipelineError("the Spark path of predict needs pyspark and a Java runtime (17 or later): "
                            "pip install -r requirements-spark.txt") from None
    try:
        session = (SparkSession.builder.master(master).appName(app_name)
                   .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    except Exception as error:  # Py4JJavaError, PySparkRuntimeError: what Spark says is in its log above
        raise PipelineError(
            f"spark_master {master!r}: Spark cannot start a session there ({first_line(error)}); its log "
            "above says why. Use local[*] for this machine, or the URL of a running cluster's master "
            "that this machine can reach (spark://host:7077, yarn, k8s://https://host:port).") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def is_local(master):
    return master.startswith("local")


@contextlib.contextmanager
def spark_errors(name):
    """Spark's errors about the input (a missing file, a line it cannot parse) as a PipelineError."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    try:
        yield
    except (PySparkException, Py4JJavaError) as error:
        raise PipelineError(f"{name}: Spark cannot read it: {first_line(error)}") from None


def first_line(error):
    """The first line of what an error says; for a Java error, of its root cause (say, 'Malformed CSV record')."""
    cause = getattr(error, "java_exception", None)
    try:
        while cause is not None and cause.getCause() is not None:
            cause = cause.getCause()
        text = cause.getMessage() if cause is not None else str(error)
    except Exception:  # the JVM may be gone: fall back on Python's text of the error
        text = str(error)
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def read_input(spark, path, name, separator="auto", decimal="."):
    """The input as a Spark DataFrame: Parquet (a file or a directory of part files) or CSV as text cells."""
    suffixes = [suffix.lower() for suffix in Path(str(path)).suffixes]
    with spark_errors(name):
        if (suffixes and suffixes[-1] in PARQUET_SUFFIXES) or (Path(str(path)).is_dir()):
            return spark.read.parquet(str(path))
        first = spark.read.text(str(path)).first()
        if first is None:
            raise PipelineError(f"{name}: the file is empty; expected a header line (the column names) "
                                "and one line per row.")
        header = first[0].lstrip("\ufeff")
        separator = separator_of(header, separator, decimal, name)
        return spark.read.csv(str(path), header=True, sep=separator, inferSchema=False, quote='"',
                              escape='"', mode="FAILFAST", enforceSchema=False, encoding="UTF-8")


def checked_input(frame, feature, decimal, name):
    """``(frame, n_rows)``: the rows to score, the feature's values as double (also in VALUE_COLUMN).

    Raises a PipelineError naming every problem of the feature column, with counts and examples.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    columns = list(frame.columns)
    clashing = [column for column in ("prediction", "lower", "upper") if column in [c.strip() for c in columns]]
    if clashing:
        raise PipelineError(f"{name}: column(s) {clashing} would be overwritten by the predictions; rename them.")
    position, _, message = locate(columns, feature)
    if position is None:
        raise PipelineError(f"{name}: {message}")
    column = F.col(f"`{columns[position]}`")
    kind = frame.schema[position].dataType

    def blank(field):
        cell = F.col(f"`{field.name}`")
        if isinstance(field.dataType, T.StringType):
            return cell.isNull() | cell.rlike(BLANK)
        if isinstance(field.dataType, (T.FloatType, T.DoubleType)):
            return cell.isNull() | F.isnan(cell)
        return cell.isNull()

    every_cell_blank = blank(frame.schema[0])
    for field in frame.schema[1:]:
        every_cell_blank = every_cell_blank & blank(field)
    frame = frame.filter(~every_cell_blank)

    if isinstance(kind, T.StringType):
        plain = column.rlike(PLAIN_NUMBER[decimal])
        text = F.regexp_replace(column, r"^[ \t]+|[ \t]+$", "")
        if decimal == ",":
            text = F.regexp_replace(text, ",", ".")
        infinite = column.rlike(INFINITY)
        missing = column.isNull() | column.rlike(BLANK)
        value = (F.when(plain, text.try_cast("double"))
                 .when(infinite, F.when(F.trim(column).startswith("-"), float("-inf")).otherwise(float("inf"))))
        not_number = ~missing & ~plain & ~infinite
    elif isinstance(kind, T.NumericType):
        value = column.cast("double")
        missing = value.isNull() | F.isnan(value)
        not_number = F.lit(False)
    else:
        raise PipelineError(f"{name}: cannot be scored (1 problem(s)):\n  - column '{feature}' holds "
                            f"{kind.simpleString()} values, not numbers, in every row; store it as numbers "
                            "(float or integer).")
    frame = frame.withColumn(VALUE_COLUMN, value)
    number = F.col(VALUE_COLUMN)
    finite = number.isNotNull() & ~F.isnan(number) & (F.abs(number) != float("inf"))
    checks = [  # (what, condition, whether examples are shown)
        ("is not a number", not_number, True),
        ("missing value", missing, False),
        ("is not finite", number.isNotNull() & (F.abs(number) == float("inf")), True),
        ("is negative", finite & (number < 0), True),
        (f"is larger than {MAX_VALUE:.0e}".replace("+", ""), finite & (number > MAX_VALUE), True),
    ]
    with spark_errors(name):  # reading happens here: a line Spark cannot parse shows now
        counts = frame.select(F.count(F.lit(1)).alias("rows"),
                              *[F.sum(F.when(condition, 1).otherwise(0)).alias(f"c{i}")
                                for i, (_, condition, _) in enumerate(checks)]).first()
    problems = []
    for i, (what, condition, show) in enumerate(checks):
        count = counts[f"c{i}"] or 0
        if not count:
            continue
        if not show:
            problems.append(f"column '{feature}': {what} in {count} row(s) ({NOT_NUMBERED}).")
            continue
        examples = [row[0] for row in frame.filter(condition).select(column).limit(MAX_EXAMPLES).collect()]
        shown = ", ".join(repr(cell) if isinstance(cell, str) else str(cell) for cell in examples)
        problems.append(f"column '{feature}': value {what} in {count} row(s), e.g. {shown} ({NOT_NUMBERED}).")
    if not counts["rows"]:
        problems.append("no rows to score.")
    if problems:
        raise PipelineError(f"{name}: cannot be scored ({len(problems)} problem(s)):\n"
                            + "\n".join(f"  - {problem}" for problem in problems))
    # the feature as the number that is scored (a CSV's cells are text), in its own place and name
    return frame.withColumn(columns[position], F.col(VALUE_COLUMN)), counts["rows"]
