"""The project's files agree with each other: MLproject, the steps' options, conda.yaml, requirements."""

import re

import yaml

from conftest import REPO

STEP_MODULES = ["main", "ingest", "validate", "eda", "train", "evaluate", "register",
                "promote", "predict"]


def mlproject():
    return yaml.safe_load((REPO / "MLproject").read_text())


def test_mlproject_declares_every_step_and_uses_conda_yaml():
    project = mlproject()
    assert project["conda_env"] == "conda.yaml"
    assert sorted(project["entry_points"]) == sorted(STEP_MODULES)


def test_each_entry_point_passes_every_parameter_to_its_module():
    for name, entry in mlproject()["entry_points"].items():
        command = " ".join(entry["command"].split())
        assert command.startswith(f"python -m steps.{name} "), name
        for parameter, spec in entry["parameters"].items():
            option = "--" + parameter.replace("_", "-")
            assert f"{option} {{{parameter}}}" in command, (name, parameter)
            assert isinstance(spec, str) or "type" in spec, (name, parameter)


def test_conda_yaml_pins_python_311_and_the_same_packages_as_requirements():
    conda = yaml.safe_load((REPO / "conda.yaml").read_text())
    assert "python=3.11" in conda["dependencies"]
    pip = next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict))
    requirements = [line.strip() for line in (REPO / "requirements.txt").read_text().splitlines()
                    if line.strip() and not line.startswith("#")]
    assert sorted(pip) == sorted(requirements)
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", pin) for pin in pip), pip
    assert any(pin.startswith("mlflow==3.") for pin in pip)


def test_data_is_the_shared_seed_file():
    import hashlib

    from conftest import DATA, FACTS

    assert hashlib.sha256(DATA.read_bytes()).hexdigest() == FACTS["sha256"]


def test_spark_requirements_add_pinned_pyspark_to_the_pipeline_and_dev_installs_them():
    lines = [line.strip() for line in (REPO / "requirements-spark.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "-r requirements.txt"
    assert [line for line in lines[1:] if re.fullmatch(r"pyspark==4\.[0-9.]+", line)] == lines[1:] != []
    assert "-r requirements-spark.txt" in (REPO / "requirements-dev.txt").read_text().splitlines()
    assert "default-jre-headless" in (REPO / ".ci" / "run").read_text()
