"""Benchmark the scoring server of the champion model against calling it in-process.

    python benchmarks/serving.py [--requests 300]

Runs the pipeline once in a temporary copy of the project (its own SQLite store), then,
in the same run, measures requests per second and p50/p99 latency for 1-row and
1,000-row requests with 1 and 2 server workers, beside the floor: the loaded model's
predict() called in-process on the same inputs. Only 127.0.0.1 is contacted.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODEL = "models:/tv-sales-regressor@champion"


def prepare(workdir):
    project = workdir / "project"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, project / name)
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / 'mlflow.db'}",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run([sys.executable, "-m", "mlflow", "run", ".", "--env-manager", "local"], cwd=project,
                   env=env, check=True, capture_output=True)
    return env


def payload(rows):
    import numpy as np

    tv = np.random.default_rng(0).uniform(0, 300, rows).round(1)
    return json.dumps({"dataframe_split": {"columns": ["TV"], "data": [[v] for v in tv]}}).encode(), tv


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def measure(call, count, threads):
    latencies = []

    def timed(_):
        began = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(timed, range(count)))
    wall = time.perf_counter() - began
    return count / wall, percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000


def serve(env, workers, port):
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", MODEL, "--env-manager", "local",
         "-h", "127.0.0.1", "-p", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
            return process
        except OSError:
            time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)
    raise SystemExit("scoring server did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="requests per measurement")
    args = parser.parse_args()
    rows_list = (1, 1000)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        env = prepare(Path(tmp))
        os.environ["MLFLOW_TRACKING_URI"] = env["MLFLOW_TRACKING_URI"]
        import mlflow
        import pandas as pd

        model = mlflow.pyfunc.load_model(MODEL)
        for rows in rows_list:
            _, tv = payload(rows)
            frame = pd.DataFrame({"TV": tv})
            model.predict(frame)
            results.append(("in-process predict (floor)", rows, "-",
                            *measure(lambda f=frame: model.predict(f), args.requests, 1)))
        for workers in (1, 2):
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            process = serve(env, workers, port)
            try:
                for rows in rows_list:
                    body, _ = payload(rows)

                    def call(body=body):
                        request = urllib.request.Request(
                            f"http://127.0.0.1:{port}/invocations", data=body,
                            headers={"Content-Type": "application/json"})
                        with urllib.request.urlopen(request, timeout=30) as response:
                            response.read()

                    for _ in range(5):
                        call()
                    results.append(("mlflow models serve", rows, workers,
                                    *measure(call, args.requests, 2 * workers)))
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
    floor = {rows: rps for name, rows, _, rps, _, _ in results if name.startswith("in-process")}
    lines = ["| path | rows/request | workers | requests/s | p50 ms | p99 ms | floor/this |",
             "|---|---|---|---|---|---|---|"]
    for name, rows, workers, rps, p50, p99 in results:
        lines.append(f"| {name} | {rows} | {workers} | {rps:,.0f} | {p50:.1f} | {p99:.1f} | "
                     f"{floor[rows] / rps:,.1f}x |")
    print(f"{args.requests} requests each; server runs with 2 client threads per worker; "
          f"{os.cpu_count()} cores\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
