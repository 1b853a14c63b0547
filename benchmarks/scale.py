"""Benchmark the pipeline at 200 to 10^7 rows, and batch prediction on pandas and on Spark, in one run.

    python benchmarks/scale.py [--rows 200,100000,1000000,10000000] [--predict-rows 1000000,10000000]
                               [--spark-master "local[*]"] [--no-spark]

For each row count, a cold ``mlflow run . --env-manager local`` of the whole pipeline on a
fresh SQLite store: 200 rows is data/tvmarketing.csv itself, larger tables are CSV files
written by ``python -m tvsales.synthetic`` (seed 1) in a temporary directory. Measured:

- each step's wall time (the driver's summary: process start to end, as the driver waits for it)
  and its peak resident set (the metric ``peak_rss_mb`` each step logs: its own ru_maxrss);
- the pipeline's wall time (``mlflow run`` start to end) and the peak of the resident sets of
  all its processes added up (sampled from /proc every 0.2 s; eda and train run at once).

Then ``predict`` with the 200-row run's champion on Parquet files of ``--predict-rows`` rows,
on the pandas path and on Spark (``-P spark_master``): wall time, the step's own time and
peak resident set, and the peak of all its processes (with Spark: its JVM and Python workers).

Targets: the 10^7-row pipeline takes at most 2x the wall time of the 200-row pipeline, and no
step's peak resident set exceeds 2 GB at 10^7 rows. MLflow's telemetry is disabled for all runs.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from pipeline import REPO, copy_project

STEPS = ("ingest", "validate", "eda", "train", "evaluate", "register")
MAX_RATIO = 2.0
MAX_STEP_MB = 2048
MODEL = "models:/tv-sales-regressor@champion"


def process_tree_rss_mb(root):
    """Resident set of process ``root`` and all its descendants, added up, in MB."""
    children, rss = {}, {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry.name}/statm") as handle:
                pages = int(handle.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        rss[int(entry.name)] = pages * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total / 2**20


def measured_run(command, cwd, env):
    """Run ``command``; returns ``(seconds, peak MB of its whole process tree, stdout)``."""
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    peak, done = [0.0], threading.Event()

    def sample():
        while not done.wait(0.2):
            peak[0] = max(peak[0], process_tree_rss_mb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - began
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {process.returncode}):\n{stderr[-4000:]}")
    return seconds, peak[0], stdout


def environment(store):
    return {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{store}", "MLFLOW_DISABLE_TELEMETRY": "true",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def mlflow_run(project, store, *params, entry_point="main"):
    command = [sys.executable, "-m", "mlflow", "run", ".", "--env-manager", "local",
               "--experiment-name", "tv-sales", "-e", entry_point]
    for param in params:
        command += ["-P", param]
    return measured_run(command, project, environment(store))


def client_for(store):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{store}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def latest_run(client, step):
    experiment = client.get_experiment_by_name("tv-sales")
    return client.search_runs([experiment.experiment_id], f"tags.`tv_sales.step` = '{step}'",
                              order_by=["attributes.start_time DESC"], max_results=1)[0]


def pipeline_numbers(store):
    """``{step: (seconds, peak MB)}`` of the pipeline run in ``store``."""
    import mlflow

    client = client_for(store)
    driver = latest_run(client, "main")
    mlflow.set_tracking_uri(f"sqlite:///{store}")
    summary = json.loads(mlflow.artifacts.load_text(f"runs:/{driver.info.run_id}/pipeline/summary.json"))
    return {row["step"]: (row["seconds"], client.get_run(row["run_id"]).data.metrics["peak_rss_mb"])
            for row in summary}


def generate(path, rows, seed):
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tvsales.synthetic", "--rows", str(rows), "--seed", str(seed),
                    "--out", str(path)], cwd=REPO, check=True, capture_output=True)
    print(f"generated {path.name} in {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
    return path


def load():
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="200,100000,1000000,10000000")
    parser.add_argument("--predict-rows", default="1000000,10000000")
    parser.add_argument("--spark-master", default="local[*]")
    parser.add_argument("--no-spark", action="store_true", help="measure the pandas path of predict only")
    args = parser.parse_args()
    row_counts = [int(value) for value in args.rows.split(",")]
    predict_counts = [int(value) for value in args.predict_rows.split(",") if value]
    loads = [load()]
    pipelines, predictions = {}, []
    with tempfile.TemporaryDirectory(prefix="tv-scale-") as tmp:
        tmp = Path(tmp)
        project = copy_project(tmp / "project")
        for rows in row_counts:
            data = (project / "data" / "tvmarketing.csv" if rows == 200
                    else generate(tmp / f"tv-{rows}.csv", rows, seed=1))
            store = tmp / f"store-{rows}.db"
            seconds, tree_mb, _ = mlflow_run(project, store, f"data_path={data}")
            pipelines[rows] = {"wall": seconds, "tree_mb": tree_mb, "steps": pipeline_numbers(store)}
            print(f"pipeline, {rows} rows: {seconds:.1f} s", file=sys.stderr, flush=True)
            if rows != 200:
                data.unlink()
        model_store = tmp / f"store-{row_counts[0]}.db"
        for rows in predict_counts:
            data = generate(tmp / f"budgets-{rows}.parquet", rows, seed=2)
            paths = [("pandas", [])] + ([] if args.no_spark else
                                        [(f"Spark {args.spark_master}", [f"spark_master={args.spark_master}"])])
            for name, extra in paths:
                seconds, tree_mb, _ = mlflow_run(project, model_store, f"input_path={data}",
                                                 f"model_uri={MODEL}", *extra, entry_point="predict")
                run = latest_run(client_for(model_store), "predict")
                predictions.append({"rows": rows, "path": name, "wall": seconds, "tree_mb": tree_mb,
                                    "step": (run.info.end_time - run.info.start_time) / 1000,
                                    "step_mb": run.data.metrics["peak_rss_mb"]})
                print(f"predict {name}, {rows} rows: {seconds:.1f} s", file=sys.stderr, flush=True)
            data.unlink()
    loads.append(load())
    report(pipelines, predictions, row_counts, loads)


def report(pipelines, predictions, row_counts, loads):
    print(f"{os.cpu_count()} cores; load average (1/5/15 min) {loads[0]} at the start, {loads[-1]} at the end\n")
    print("Pipeline, cold, on a fresh store: seconds and peak resident set (MB) of each step\n")
    print("| step | " + " | ".join(f"{rows:,} rows" for rows in row_counts) + " |")
    print("|---|" + "---|" * len(row_counts))
    for step in STEPS:
        cells = [f"{pipelines[rows]['steps'][step][0]:.1f} s, {pipelines[rows]['steps'][step][1]:.0f} MB"
                 for rows in row_counts]
        print(f"| {step} | " + " | ".join(cells) + " |")
    print("| **pipeline** (mlflow run) | " + " | ".join(
        f"**{pipelines[rows]['wall']:.1f} s**, {pipelines[rows]['tree_mb']:.0f} MB all processes"
        for rows in row_counts) + " |")
    base, largest = row_counts[0], row_counts[-1]
    ratio = pipelines[largest]["wall"] / pipelines[base]["wall"]
    step_mb = max(mb for _, mb in pipelines[largest]["steps"].values())
    print(f"\n- {largest:,} rows / {base:,} rows wall time: {ratio:.2f} (target <= {MAX_RATIO:g}: "
          f"{'met' if ratio <= MAX_RATIO else 'MISSED'})")
    print(f"- largest step peak at {largest:,} rows: {step_mb:.0f} MB (target <= {MAX_STEP_MB} MB: "
          f"{'met' if step_mb <= MAX_STEP_MB else 'MISSED'})")
    if predictions:
        print("\nBatch prediction (predict, Parquet in and out), champion of the 200-row run\n")
        print("| rows | path | mlflow run seconds | step seconds | step peak MB | all processes peak MB |")
        print("|---|---|---|---|---|---|")
        for row in predictions:
            print(f"| {row['rows']:,} | {row['path']} | {row['wall']:.1f} | {row['step']:.1f} | "
                  f"{row['step_mb']:.0f} | {row['tree_mb']:.0f} |")


if __name__ == "__main__":
    main()
