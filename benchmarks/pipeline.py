"""Benchmark the pipeline's wall time against a floor, in one run on one machine.

    python benchmarks/pipeline.py [--repeats 3]

Medians of ``--repeats`` runs of ``mlflow run . --env-manager local`` each:
- floor: a project with the same seven entry points chained with mlflow.run, whose
  steps only start a run and log one parameter;
- cold: the real pipeline on a fresh tracking store;
- warm: the real pipeline again, nothing changed (every step reused);
- partial: a train parameter changed (train, evaluate and register run again).

MLflow's usage telemetry is disabled for all of them alike (MLFLOW_DISABLE_TELEMETRY):
on a machine without network its attempts add seconds of noise to short processes.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STEPS = ("ingest", "validate", "eda", "train", "evaluate", "register")
PARTIAL_SEEDS = (7, 12, 13)  # splits whose model passes the thresholds of config.yaml

FLOOR_MLPROJECT = "name: floor\nentry_points:\n" + "".join(
    f"  {step}:\n    command: python floor_step.py {step}\n" for step in STEPS
) + "  main:\n    command: python floor_step.py main\n"

FLOOR_STEP = '''import sys
import mlflow

step = sys.argv[1]
with mlflow.start_run() as run:
    mlflow.log_param("step", step)
    if step == "main":
        for name in %r:
            mlflow.run(".", entry_point=name, env_manager="local", experiment_id=run.info.experiment_id)
''' % (STEPS,)


def copy_project(target):
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target / name)
    return target


def timed_run(project, store, *params):
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{store}", "MLFLOW_DISABLE_TELEMETRY": "true",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [sys.executable, "-m", "mlflow", "run", ".", "--env-manager", "local"]
    for param in params:
        command += ["-P", param]
    began = time.perf_counter()
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return seconds, result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    times = {"floor": [], "cold": [], "warm": [], "partial": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        floor = tmp / "floor"
        floor.mkdir()
        (floor / "MLproject").write_text(FLOOR_MLPROJECT)
        (floor / "floor_step.py").write_text(FLOOR_STEP)
        project = copy_project(tmp / "project")
        for repeat in range(args.repeats):
            times["floor"].append(timed_run(floor, tmp / f"floor{repeat}.db")[0])
            store = tmp / f"pipeline{repeat}.db"
            times["cold"].append(timed_run(project, store)[0])
            seconds, out = timed_run(project, store)
            assert out.count("reused") == len(STEPS), out
            times["warm"].append(seconds)
            seconds, out = timed_run(project, store, f"random_state={PARTIAL_SEEDS[repeat % 3]}")
            assert out.count("reused") == 3, out
            times["partial"].append(seconds)
            print(f"repeat {repeat + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()),
                  file=sys.stderr, flush=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"medians of {args.repeats} runs, {os.cpu_count()} cores\n")
    print("| run | median seconds | ratio | target |")
    print("|---|---|---|---|")
    print(f"| floor | {median['floor']:.1f} | | |")
    for name, base, target in (("cold", "floor", 1.25), ("warm", "cold", 0.30), ("partial", "cold", 0.65)):
        ratio = median[name] / median[base]
        print(f"| {name} | {median[name]:.1f} | {name}/{base} = {ratio:.2f} | "
              f"≤ {target:.2f} {'met' if ratio <= target else 'MISSED'} |")


if __name__ == "__main__":
    main()
