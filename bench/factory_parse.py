"""Benchmark of parsing a "DAG factory": one file whose loop makes K DAGs of three tasks.

    python bench/factory_parse.py               # K = 1,000 and 10,000
    python bench/factory_parse.py 100 1000      # chosen sizes
    python bench/factory_parse.py --json        # time `dags list -o json` instead of the table

Per K, each figure the median of three runs:

- cold: ``tradewind dags list`` as a whole process, on a new DAGs folder holding only the factory
  file and a new TRADEWIND_HOME (the command is timed as a black box: whatever it does first
  time, a DAG processor or a store included, is in the figure);
- warm: the same command run again, nothing changed;
- 1 DAG: the same commands, cold and warm, on a folder whose file makes one DAG, for scale (the
  target: warm at K = 10,000 within 1.5x warm on one DAG);
- load_dags: ``tradewind.loader.load_dags`` on the file, timed inside a fresh process;
- Airflow: with an Airflow 3.3.2 virtualenv at ``.bench-airflow`` in the repository root, the
  whole process that imports Airflow and fills a ``DagBag`` from the same folder, and the
  ``DagBag(...)`` call alone; then how many times longer Airflow takes (process against cold
  ``dags list``, DagBag against ``load_dags``). Make that virtualenv with

      python3 -m venv .bench-airflow && .bench-airflow/bin/pip install apache-airflow==3.3.2

Python may write bytecode caches (PYTHONDONTWRITEBYTECODE is dropped for the runs) and one
untimed run of each command comes first, as on any installed system; Airflow's pip install wrote
its caches already. TRADEWIND_* variables of the calling shell are not passed on.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import hardware

ROOT = Path(__file__).resolve().parent.parent
TRADEWIND = Path(sys.executable).with_name("tradewind")
AIRFLOW_PYTHON = ROOT / ".bench-airflow" / "bin" / "python"
REPEATS = 3

FACTORY = """\
from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator
for i in range({k}):
    with DAG(f"client_{{i}}", schedule="@daily", start_date=datetime(2025, 1, 1), catchup=False) as dag:
        a = EmptyOperator(task_id="a"); b = EmptyOperator(task_id="b"); c = EmptyOperator(task_id="c")
        a >> b >> c
    globals()[f"client_{{i}}"] = dag
"""

# Run by tradewind's Python: the seconds load_dags takes, as JSON.
TRADEWIND_LOAD = """\
import json, sys, time
from tradewind.loader import load_dags
start = time.perf_counter()
bag = load_dags(sys.argv[1])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "dags": len(bag.dags), "errors": len(bag.import_errors)}))
"""

# Run by Airflow's Python: the seconds DagBag(...) takes, as JSON on the last line.
AIRFLOW_LOAD = """\
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
start = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "dags": len(bag.dags), "errors": len(bag.import_errors)}))
"""


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def make_folder(parent: Path, k: int) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f"dags-{k}-", dir=parent))
    (folder / "factory.py").write_text(FACTORY.format(k=k))
    return folder


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds of one process, and its standard output."""
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - start, done.stdout


def last_json(stdout: str) -> dict[str, float]:
    return json.loads(stdout.strip().splitlines()[-1])


def dags_list(folder: Path, home: Path, output: str) -> float:
    env = {**clean_env(), "TRADEWIND_HOME": str(home)}
    cmd = [str(TRADEWIND), "dags", "list", "--dags-folder", str(folder), "-o", output]
    return timed(cmd, env)[0]


def tradewind_rows(k: int, scratch: Path, output: str) -> dict[str, float]:
    """Median cold and warm ``dags list`` and in-process load_dags, each in a new folder and home."""
    cold, warm, load = [], [], []
    for _ in range(REPEATS):
        folder = make_folder(scratch, k)
        home = Path(tempfile.mkdtemp(prefix="home-", dir=scratch))
        cold.append(dags_list(folder, home, output))
        warm.append(dags_list(folder, home, output))
        result = last_json(timed([sys.executable, "-c", TRADEWIND_LOAD, str(folder)], clean_env())[1])
        assert result["dags"] == k and not result["errors"], result
        load.append(result["seconds"])
    return {"cold": statistics.median(cold), "warm": statistics.median(warm), "load": statistics.median(load)}


def airflow_version() -> str | None:
    if not AIRFLOW_PYTHON.exists():
        return None
    try:
        return timed([str(AIRFLOW_PYTHON), "-c", "import airflow; print(airflow.__version__)"], clean_env())[1].strip()
    except subprocess.CalledProcessError:
        return None


def airflow_rows(k: int, scratch: Path) -> dict[str, float]:
    """Median whole process (import Airflow, fill the DagBag) and the DagBag call alone."""
    process, bag = [], []
    for _ in range(REPEATS):
        folder = make_folder(scratch, k)
        home = Path(tempfile.mkdtemp(prefix="airflow-home-", dir=scratch))
        env = {
            **clean_env(),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "600",
        }
        seconds, stdout = timed([str(AIRFLOW_PYTHON), "-c", AIRFLOW_LOAD, str(folder)], env)
        result = last_json(stdout)
        assert result["dags"] == k and not result["errors"], result
        process.append(seconds)
        bag.append(result["seconds"])
    return {"process": statistics.median(process), "bag": statistics.median(bag)}


def warm_up(scratch: Path, output: str, airflow: bool) -> None:
    """One untimed run of each command: bytecode caches written, files in the page cache."""
    folder = make_folder(scratch, 1)
    dags_list(folder, Path(tempfile.mkdtemp(dir=scratch)), output)
    timed([sys.executable, "-c", TRADEWIND_LOAD, str(folder)], clean_env())
    if airflow:
        airflow_rows(1, scratch)


def main(sizes: list[int], output: str) -> None:
    version = airflow_version()
    airflow = version is not None
    print(f"Hardware: {hardware()}")
    print(
        f"Factory file: K DAGs of 3 tasks (a >> b >> c), schedule @daily; `tradewind dags list -o {output}`; "
        f"median of {REPEATS}"
    )
    print(f"Airflow {version} (.bench-airflow)" if airflow else "Airflow not installed (see this file's docstring)")
    if airflow and version != "3.3.2":
        print("  (the reference figures are for Airflow 3.3.2)")
    print()
    columns: list[tuple[str, Callable[[dict[str, float]], str]]] = [
        ("K", lambda r: f"{int(r['k']):,}"),
        ("cold list (s)", lambda r: f"{r['cold']:.3f}"),
        ("warm list (s)", lambda r: f"{r['warm']:.3f}"),
        ("1-DAG cold (s)", lambda r: f"{r['one']:.3f}"),
        ("1-DAG warm (s)", lambda r: f"{r['one_warm']:.3f}"),
        ("warm / 1-DAG warm", lambda r: f"{r['warm'] / r['one_warm']:.2f}x"),
        ("load_dags (s)", lambda r: f"{r['load']:.3f}"),
    ]
    if airflow:
        columns += [
            ("Airflow process (s)", lambda r: f"{r['process']:.3f}"),
            ("Airflow DagBag (s)", lambda r: f"{r['bag']:.3f}"),
            ("process / cold", lambda r: f"{r['process'] / r['cold']:.1f}x"),
            ("DagBag / load_dags", lambda r: f"{r['bag'] / r['load']:.1f}x"),
        ]
    header = " | ".join(f"{name:>{max(len(name), 7)}}" for name, _ in columns)
    with tempfile.TemporaryDirectory(prefix="tradewind-factory-bench-") as tmp:
        scratch = Path(tmp)
        warm_up(scratch, output, airflow)
        one_dag = tradewind_rows(1, scratch, output)
        one, one_warm = one_dag["cold"], one_dag["warm"]
        print(header)
        print("-" * len(header))
        for k in sizes:
            row: dict[str, float] = {"k": k, "one": one, "one_warm": one_warm, **tradewind_rows(k, scratch, output)}
            if airflow:
                row.update(airflow_rows(k, scratch))
            print(" | ".join(f"{fmt(row):>{max(len(name), 7)}}" for name, fmt in columns), flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    fmt = "json" if "--json" in args else "table"
    main([int(a) for a in args if a != "--json"] or [1000, 10000], fmt)
