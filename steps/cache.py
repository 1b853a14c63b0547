"""Step reuse: a key for everything that can change a step's output, and the run that already has it.

The key covers the step's parameters in canonical form (the driver passes them parsed,
so ``4``, ``4.0`` and ``"4"`` give one key), the run IDs of its upstream runs (they are
parameters), a hash of the code it runs (its module and every project module it
imports, found by reading the imports), the ``config.yaml`` settings it reads, the
versions of Python and of the libraries that shape its output, and for ``ingest`` the
content hash of a local data file.
"""

import ast
import hashlib
import json
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from tvsales.config import PROJECT_DIR

KEY_TAG = "tv_sales.cache_key"
PACKAGES = ("steps", "tvsales")
LIBRARIES = ("mlflow", "pandas", "numpy", "scipy", "scikit-learn", "skops", "pyarrow",
             "matplotlib", "seaborn")

# The config.yaml settings (Config fields) each step reads.
STEP_SETTINGS = {
    "ingest": (),  # data_path is a parameter; a local file counts by its content
    "validate": ("feature", "target", "min_rows", "separator", "decimal"),
    "eda": ("feature", "target"),
    "train": ("feature", "target", "test_size", "random_state", "interval_level"),
    "evaluate": ("feature", "target", "min_r2", "max_mape", "model_name", "promotion_metric"),
    "register": ("experiment_name", "model_name", "feature", "target", "promotion_metric",
                 "min_improvement"),
}


def module_file(name):
    """The source file of project module ``name`` (``steps.eda`` -> steps/eda.py), or None."""
    path = PROJECT_DIR.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@lru_cache(maxsize=None)
def code_files(name):
    """Every project source file module ``name`` runs: itself and what it imports, transitively."""
    seen, todo = set(), [name]
    while todo:
        path = module_file(todo.pop())
        if path is None or path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            todo += [n for n in names if n.split(".")[0] in PACKAGES]
    return tuple(sorted(seen))


# Project modules a step runs without importing them: train logs tvsales/serving.py as the model's code.
EXTRA_MODULES = {"train": ("tvsales.serving",)}


def code_hash(step):
    files = set(code_files(f"steps.{step}"))
    for module in EXTRA_MODULES.get(step, ()):
        files.update(code_files(module))
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path.relative_to(PROJECT_DIR)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions():
    versions = {"python": ".".join(map(str, sys.version_info[:3]))}
    for library in LIBRARIES:
        try:
            versions[library] = metadata.version(library)
        except metadata.PackageNotFoundError:
            versions[library] = None
    return versions


def cache_key(step, parameters, config, env_manager, data_file=None):
    """The hex key of ``step`` run with ``parameters`` (strings) under ``config``.

    ``data_file``: for ingest, the local data file whose content is hashed into the key;
    it then stands for ``data_path`` too, so ``data/x.csv`` and ``./data/x.csv`` are one key.
    """
    if data_file:
        parameters = {**parameters, "data_path": str(Path(data_file).resolve())}
    content = {
        "step": step,
        "env_manager": env_manager,
        "parameters": {key: str(value) for key, value in sorted(parameters.items())},
        "code": code_hash(step),
        "settings": {name: getattr(config, name) for name in STEP_SETTINGS[step]},
        "libraries": library_versions(),
        "data": file_sha256(data_file) if data_file else None,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def reusable_run(client, experiment_id, step, key):
    """The newest FINISHED run of ``step`` with ``key`` in this experiment, or None.

    A register run is reusable only while the model version it registered still exists.
    """
    from mlflow.exceptions import MlflowException

    runs = client.search_runs(
        [experiment_id],
        f"tags.`{KEY_TAG}` = '{key}' and tags.`tv_sales.step` = '{step}' "
        "and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"], max_results=1,
    )
    if not runs:
        return None
    if step == "register":
        tags = runs[0].data.tags
        try:
            client.get_model_version(tags["tv_sales.model_name"], tags["tv_sales.model_version"])
        except (MlflowException, KeyError):
            return None
    return runs[0]
