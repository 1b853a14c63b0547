"""Step 1, ingest: read the raw table and record it, with its source and digest, as the run's input."""

import argparse
import shutil
import tempfile
import warnings
from pathlib import Path

from steps.cache import file_sha256
from steps.common import log_dataset_input, log_table, run_step
from tvsales.config import PROJECT_DIR
from tvsales.data import read_table
from tvsales.errors import PipelineError

URI_SCHEMES = ("file:", "runs:", "models:", "s3:", "gs:", "wasbs:", "abfss:", "hdfs:", "dbfs:",
               "http:", "https:", "mlflow-artifacts:")


def fetch(data_path):
    """Return ``(local_path, source)`` for a local path or a URI MLflow can download.

    Relative local paths are read relative to the project directory.
    """
    if not data_path.lower().startswith(URI_SCHEMES):
        path = Path(data_path).expanduser()
        path = path if path.is_absolute() else PROJECT_DIR / path
        return path, str(path)
    if data_path.lower().startswith("file:"):
        from urllib.parse import urlparse
        from urllib.request import url2pathname

        path = Path(url2pathname(urlparse(data_path).path))
        return path, data_path
    if data_path.lower().startswith(("http:", "https:")):
        return _download_http(data_path), data_path
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        local = mlflow.artifacts.download_artifacts(artifact_uri=data_path, dst_path=tempfile.mkdtemp())
    except (MlflowException, OSError) as error:
        raise PipelineError(f"{data_path}: cannot be downloaded: {error}") from None
    return Path(local), data_path


def _download_http(url, timeout=10):
    from urllib.error import URLError
    from urllib.request import urlopen

    target = Path(tempfile.mkdtemp()) / (Path(url.split("?")[0]).name or "data.csv")
    try:
        with urlopen(url, timeout=timeout) as response, open(target, "wb") as out:
            shutil.copyfileobj(response, out)
    except (URLError, OSError, ValueError) as error:
        raise PipelineError(f"{url}: cannot be downloaded: {error}") from None
    return target


def ingest(config):
    import mlflow

    path, source = fetch(config.data_path)
    table = read_table(path, name=source)
    with warnings.catch_warnings():  # MLflow registers its local source twice and says so
        warnings.filterwarnings("ignore", message=".*can be interpreted in multiple ways")
        dataset = mlflow.data.from_pandas(table, source=source, name=Path(source).name)
    log_dataset_input(dataset, context="raw")
    mlflow.log_metrics({"n_rows": len(table), "n_columns": table.shape[1]})
    mlflow.set_tags({"tv_sales.data_sha256": file_sha256(path), "tv_sales.data_source": source})
    log_table(table, "data/raw.parquet")
    print(f"ingest: {len(table)} rows, {table.shape[1]} columns from {source}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-path", default="", help="CSV or Parquet file (default: config.yaml)")
    args = parser.parse_args(argv)
    run_step("ingest", ingest, overrides={"data_path": args.data_path})


if __name__ == "__main__":
    main()
