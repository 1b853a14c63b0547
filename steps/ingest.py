"""Step 1, ingest: record the data file as received, with its source and digest, as the run's input.

The file is logged byte for byte; ``validate`` reads it, so that a file that cannot be read
is reported in the validation report like any other problem.
"""

import argparse
import shutil
import tempfile
import warnings
from pathlib import Path

from steps.cache import file_sha256
from steps.common import log_dataset_input, run_step
from tvsales.config import PROJECT_DIR
from tvsales.data import require_file
from tvsales.errors import PipelineError

RAW_FILE_TAG = "tv_sales.raw_file"  # the artifact path of the file as received

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
    except ImportError as error:  # e.g. s3:// needs boto3, gs:// google-cloud-storage
        raise PipelineError(f"{data_path}: cannot be downloaded: this URI needs the Python package "
                            f"'{error.name}', which is not installed.") from None
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
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.exceptions import MlflowException

    path, source = fetch(config.data_path)
    require_file(path, source)
    digest = file_sha256(path)
    with warnings.catch_warnings():  # MLflow registers its local source twice and says so
        warnings.filterwarnings("ignore", message=".*can be interpreted in multiple ways")
        try:
            dataset_source = resolve_dataset_source(source)
        except MlflowException:  # runs:/, models:/ ... have no dataset source type: the downloaded copy
            dataset_source = resolve_dataset_source(str(path))
        dataset = MetaDataset(dataset_source, name=Path(source).name, digest=digest[:16])
    log_dataset_input(dataset, context="raw")
    mlflow.log_artifact(str(path), "data/raw")
    mlflow.log_metric("n_bytes", path.stat().st_size)
    mlflow.set_tags({"tv_sales.data_sha256": digest, "tv_sales.data_source": source,
                     RAW_FILE_TAG: f"data/raw/{path.name}"})
    shape = table_shape(path, source, config)
    if shape:
        mlflow.log_metrics({"n_rows": shape[0], "n_columns": shape[1]})
    size = f"{shape[0]} rows, {shape[1]} columns" if shape else f"{path.stat().st_size} bytes"
    print(f"ingest: {size} from {source}, recorded as data/raw/{path.name}")


def table_shape(path, source, config):
    """``(rows, columns)`` of the file as read, or None when it cannot be read (validate says why)."""
    from tvsales.data import ReadError, read_table

    try:
        table = read_table(path, source, config.separator, config.decimal)
    except ReadError as error:
        print(f"ingest: note: {error.reason} The validate step reports it.")
        return None
    return table.shape


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-path", default="", help="CSV or Parquet file (default: config.yaml)")
    args = parser.parse_args(argv)
    run_step("ingest", ingest, overrides={"data_path": args.data_path})


if __name__ == "__main__":
    main()
