"""Load and check ``config.yaml``, the one place where every default lives."""

from dataclasses import dataclass, replace
import math
from pathlib import Path

from tvsales.errors import PipelineError

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONFIG_PATH = PROJECT_DIR / "config.yaml"
LOWER_IS_BETTER = {"rmse", "mae", "mape"}
# data.separator and data.decimal: each accepted spelling and the character it means
SEPARATORS = {"auto": "auto", ",": ",", ";": ";", "\t": "\t", "\\t": "\t", "tab": "\t"}
DECIMAL_MARKS = {".": ".", ",": ","}


@dataclass(frozen=True)
class Config:
    """Every setting of the pipeline, checked."""

    experiment_name: str
    model_name: str
    data_path: str
    feature: str
    target: str
    min_rows: int
    separator: str  # "auto", ",", ";" or a tab
    decimal: str    # "." or ","
    test_size: float
    random_state: int
    min_r2: float
    max_mape: float
    promotion_metric: str
    min_improvement: float
    interval_level: float
    spark_master: str  # "" for the pandas path of predict, else a Spark master URL (local[*], spark://...)


def parse_test_size(value, source="parameter 'test_size'"):
    """Return ``value`` as a float strictly between 0 and 1."""
    number = _parse_number(value, source)
    if not 0 < number < 1:
        raise PipelineError(
            f"{source} must be a fraction strictly between 0 and 1 (e.g. 0.33), got {value!r}."
        )
    return number


def parse_random_state(value, source="parameter 'random_state'"):
    """Return ``value`` as a non-negative integer (``4``, ``4.0`` and ``"4"`` are all 4)."""
    number = _parse_number(value, source)
    if number != int(number) or not 0 <= number < 2**32:
        raise PipelineError(f"{source} must be an integer from 0 to 2**32 - 1 (e.g. 42), "
                            f"got {value!r}.")
    return int(number)


def parse_spark_master(value, source="parameter 'spark_master'"):
    """Return a Spark master URL (``local[*]``, ``spark://host:7077``, ``yarn``, ...) or "" for none."""
    if value is None:
        return ""
    if not isinstance(value, str) or any(character.isspace() for character in value.strip()):
        raise PipelineError(f"{source} must be a Spark master URL such as local[*] or spark://host:7077, "
                            f"or empty for the pandas path; got {value!r}.")
    return value.strip()


def parse_bool(value, source):
    """Return ``value`` as a bool; accepts true/false, yes/no, 1/0 in any case."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "1"}:
        return True
    if text in {"false", "no", "0", ""}:
        return False
    raise PipelineError(f"{source} must be true or false, got {value!r}.")


def load_config(path=CONFIG_PATH, **overrides):
    """Read ``config.yaml``, check every value, then apply non-empty ``overrides``.

    ``overrides`` are the ``-P`` parameters: ``data_path``, ``test_size`` and
    ``random_state``. An empty string or None means "use the configured default".
    """
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(f"{path}: configuration file not found.") from None
    except yaml.YAMLError as error:
        raise PipelineError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise PipelineError(f"{path}: expected a mapping of settings at the top level.")

    def get(key):
        node = raw
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise PipelineError(f"{path}: missing setting '{key}'.")
            node = node[part]
        return node

    def text(key):
        value = get(key)
        if not isinstance(value, str) or not value.strip():
            raise PipelineError(f"{path}: '{key}' must be a non-empty string, got {value!r}.")
        return value.strip()

    def number(key, low, high):
        source = f"{path}: '{key}'"
        value = _parse_number(get(key), source)
        if not low <= value <= high:
            raise PipelineError(f"{source} must be between {low} and {high}, got {value!r}.")
        return value

    def choice(key, spellings):
        value = get(key)
        spelled = value.strip(" ").lower() if isinstance(value, str) else None
        if spelled not in spellings:
            allowed = ", ".join(map(repr, dict.fromkeys(spellings.values())))
            raise PipelineError(f"{path}: '{key}' must be one of {allowed}, got {value!r}.")
        return spellings[spelled]

    config = Config(
        experiment_name=text("experiment_name"),
        model_name=text("model_name"),
        data_path=text("data.path"),
        feature=text("data.feature"),
        target=text("data.target"),
        min_rows=parse_random_state(get("data.min_rows"), f"{path}: 'data.min_rows'"),
        separator=choice("data.separator", SEPARATORS),
        decimal=choice("data.decimal", DECIMAL_MARKS),
        test_size=parse_test_size(get("split.test_size"), f"{path}: 'split.test_size'"),
        random_state=parse_random_state(get("split.random_state"), f"{path}: 'split.random_state'"),
        min_r2=number("evaluation.min_r2", -math.inf, 1.0),
        max_mape=number("evaluation.max_mape", 0.0, math.inf),
        promotion_metric=text("promotion.metric").lower(),
        min_improvement=number("promotion.min_improvement", 0.0, math.inf),
        interval_level=number("prediction.interval_level", 0.0, 1.0),
        spark_master=parse_spark_master(get("prediction.spark_master"), f"{path}: 'prediction.spark_master'"),
    )
    if config.promotion_metric not in LOWER_IS_BETTER | {"r2"}:
        raise PipelineError(f"{path}: 'promotion.metric' must be one of rmse, mae, mape, r2; "
                            f"got {config.promotion_metric!r}.")
    if config.min_improvement <= 0:
        raise PipelineError(f"{path}: 'promotion.min_improvement' must be positive.")
    if not 0 < config.interval_level < 1:
        raise PipelineError(f"{path}: 'prediction.interval_level' must be strictly between 0 and 1.")
    if config.feature == config.target:
        raise PipelineError(f"{path}: 'data.feature' and 'data.target' must be different columns.")
    if config.separator == "," and config.decimal == ",":
        raise PipelineError(f"{path}: 'data.separator' and 'data.decimal' are both ','; a comma cannot "
                            "both separate cells and mark decimals. Use data.separator ';' (or tab).")
    if config.min_rows < 3:
        raise PipelineError(f"{path}: 'data.min_rows' must be at least 3, got {config.min_rows}.")
    return apply_overrides(config, **overrides)


def apply_overrides(config, data_path=None, test_size=None, random_state=None, spark_master=None):
    """Return ``config`` with the given ``-P`` parameters checked and applied."""
    changes = {}
    if _given(spark_master):
        changes["spark_master"] = parse_spark_master(spark_master)
    if _given(data_path):
        changes["data_path"] = str(data_path).strip()
    if _given(test_size):
        changes["test_size"] = parse_test_size(test_size)
    if _given(random_state):
        changes["random_state"] = parse_random_state(random_state)
    return replace(config, **changes)


def _given(value):
    return value is not None and str(value).strip() != ""


def _parse_number(value, source):
    if isinstance(value, bool):
        raise PipelineError(f"{source} must be a number, got {value!r}.")
    try:
        number = float(str(value).strip())
    except ValueError:
        raise PipelineError(f"{source} must be a number, got {value!r}.") from None
    if not math.isfinite(number):
        raise PipelineError(f"{source} must be a finite number, got {value!r}.")
    return number
