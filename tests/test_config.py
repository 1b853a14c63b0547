"""config.yaml loading and the -P parameters: defaults in one place, clear errors."""

import pytest

from tvsales.config import (CONFIG_PATH, apply_overrides, load_config, parse_bool,
                            parse_random_state, parse_test_size)
from tvsales.errors import PipelineError


def test_defaults_come_from_config_yaml():
    config = load_config()
    assert (config.test_size, config.random_state) == (0.33, 42)
    assert (config.feature, config.target) == ("TV", "Sales")
    assert config.data_path == "data/tvmarketing.csv"
    assert config.experiment_name == "tv-sales"
    assert (config.separator, config.decimal) == ("auto", ".")


def test_overrides_replace_defaults_and_empty_means_default():
    config = load_config(test_size="0.2", random_state="7", data_path="other.csv")
    assert (config.test_size, config.random_state, config.data_path) == (0.2, 7, "other.csv")
    assert load_config(test_size="", random_state=None) == load_config()


@pytest.mark.parametrize("text", ["0.2", "0.20", "2e-1", " .2 "])
def test_test_size_spellings_are_the_same_value(text):
    assert parse_test_size(text) == 0.2


@pytest.mark.parametrize("text", ["4", "4.0", 4, 4.0])
def test_random_state_spellings_are_the_same_value(text):
    assert parse_random_state(text) == 4


@pytest.mark.parametrize("text, fragment", [
    ("0", "strictly between 0 and 1"),
    ("1", "strictly between 0 and 1"),
    ("1.5", "strictly between 0 and 1"),
    ("-0.1", "strictly between 0 and 1"),
    ("abc", "must be a number"),
    ("nan", "finite"),
    ("inf", "finite"),
])
def test_bad_test_size_is_refused_by_name(text, fragment):
    with pytest.raises(PipelineError, match="test_size") as error:
        parse_test_size(text)
    assert fragment in str(error.value)


@pytest.mark.parametrize("text", ["-1", "1.5", "seven", "1e400", "4294967296"])
def test_bad_random_state_is_refused_by_name(text):
    with pytest.raises(PipelineError, match="random_state"):
        parse_random_state(text)


@pytest.mark.parametrize("text, value", [("true", True), ("Yes", True), ("1", True),
                                         ("false", False), ("NO", False), ("", False)])
def test_parse_bool(text, value):
    assert parse_bool(text, "force") is value


def test_parse_bool_refuses_other_words():
    with pytest.raises(PipelineError, match="force"):
        parse_bool("maybe", "force")


def _write_config(tmp_path, old, new):
    path = tmp_path / "config.yaml"
    text = CONFIG_PATH.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize("old, new, fragment", [
    ("test_size: 0.33", "test_size: 3", "'split.test_size'"),
    ("random_state: 42", "random_state: -2", "'split.random_state'"),
    ("min_r2: 0.5", "min_r2: high", "'evaluation.min_r2'"),
    ("target: Sales", "target: TV", "must be different"),
    ("model_name: tv-sales-regressor", "model_name: ''", "'model_name'"),
    ("min_rows: 20", "min_rows: 1", "at least 3"),
    ("experiment_name: tv-sales", "experiment: tv-sales", "missing setting 'experiment_name'"),
    ('decimal: "."', 'decimal: ";"', "'data.decimal' must be one of '.', ','"),
    ("separator: auto", "separator: '|'", "'data.separator' must be one of 'auto', ',', ';', '\\t'"),
    ('decimal: "."', 'decimal: 0.5', "'data.decimal' must be one of"),
])
def test_bad_config_value_names_the_file_and_key(tmp_path, old, new, fragment):
    path = _write_config(tmp_path, old, new)
    with pytest.raises(PipelineError) as error:
        load_config(path)
    assert str(path) in str(error.value) and fragment in str(error.value)


@pytest.mark.parametrize("spelled, separator", [("auto", "auto"), ('";"', ";"), ('"\\t"', "\t"),
                                                ("'\\t'", "\t"), ("TAB", "\t"), ('","', ",")])
def test_separator_spellings(tmp_path, spelled, separator):
    assert load_config(_write_config(tmp_path, "separator: auto", f"separator: {spelled}")).separator == separator


def test_comma_cannot_be_separator_and_decimal_mark(tmp_path):
    path = _write_config(tmp_path, "separator: auto", 'separator: ","')
    path.write_text(path.read_text().replace('decimal: "."', 'decimal: ","'))
    with pytest.raises(PipelineError, match="'data.separator' and 'data.decimal' are both ','"):
        load_config(path)


def test_config_that_is_not_yaml(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("data: [unclosed\n")
    with pytest.raises(PipelineError, match="not valid YAML"):
        load_config(path)


def test_apply_overrides_checks_values():
    with pytest.raises(PipelineError, match="test_size"):
        apply_overrides(load_config(), test_size="2")
