"""Benchmark of a dag-factory YAML folder of K DAGs against the same K DAGs written as a Python loop.

    python bench/dag_factory.py              # K = 1,000
    python bench/dag_factory.py --k 200      # another size
    python bench/dag_factory.py --no-airflow # skip real dag-factory on real Airflow

The YAML folder holds one config file per client (``clients/client_<i>.yml``, one DAG each:
EmptyOperator a >> b >> c, @daily, start_date 2025-01-01, catchup false, retries from a shared
``defaults.yml``) and the dag-factory loader file ``load_yaml_dags(globals_dict=globals())``.
The Python folder makes the same K DAGs in one loop through ``globals()``. Per layout, in a
fresh TRADEWIND_HOME (SQLite) in a temp dir:

- parse: ``tradewind dag-processor --once`` (wall time; every DAG stored),
- schedule: ``tradewind scheduler --exit-when-idle``, until its K runs and 3K task instances
  succeeded (checked in the store),
- re-read: ``dag-processor --once`` again with nothing changed (nothing is imported), and for
  the YAML folder after one client's YAML changed (the loader file alone is imported again).

Then, if the Airflow bench venv is there (``/work/main/.bench-airflow``), real dag-factory
(installed with pip into ``.cache/dag-factory`` beside it, not into that venv) builds the same
YAML folder inside real Airflow's ``DagBag``, and the Python loop too: parse time only (the
scheduler of Airflow is measured in bench/many_dags.py).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import hardware, tradewind_bin, tradewind_source

TARGET = 10.0  # seconds to parse and schedule K = 1,000 DAGs (the many-DAGs issue's target)
AIRFLOW_PYTHON = Path("/work/main/.bench-airflow/bin/python")
DAG_FACTORY_CACHE = Path(__file__).parents[1] / ".cache" / "dag-factory"

LOADER = """\
# airflow: Airflow's safe mode imports only files that say "airflow" and "dag"
from dagfactory import load_yaml_dags

load_yaml_dags(globals_dict=globals())
"""
DEFAULTS = "default_args:\n  owner: clients\n  retries: 1\n  start_date: 2025-01-01\n"
CLIENT = """\
client_{i}:
  schedule: "@daily"
  catchup: false
  tags: [client]
  tasks:
    a:
      operator: airflow.operators.empty.EmptyOperator
    b:
      operator: airflow.operators.empty.EmptyOperator
      dependencies: [a]
    c:
      operator: airflow.operators.empty.EmptyOperator
      dependencies: [b]
"""
PYTHON_LOOP = '''\
"""{k} DAGs from one file (benchmark)."""
from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

for i in range({k}):
    with DAG(
        dag_id=f"client_{{i}}",
        schedule="@daily",
        start_date=datetime(2025, 1, 1),
        catchup=False,
        tags=["client"],
        default_args={{"owner": "clients", "retries": 1}},
    ) as dag:
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
        c = EmptyOperator(task_id="c")
        a >> b >> c
    globals()[f"client_{{i}}"] = dag
'''


def write_yaml(dags: Path, k: int) -> None:
    (dags / "clients").mkdir(parents=True)
    (dags / "loader.py").write_text(LOADER)
    (dags / "defaults.yml").write_text(DEFAULTS)
    for i in range(k):
        (dags / "clients" / f"client_{i}.yml").write_text(CLIENT.format(i=i))


def write_python(dags: Path, k: int) -> None:
    dags.mkdir(parents=True)
    (dags / "clients.py").write_text(PYTHON_LOOP.format(k=k))


def tradewind(args: list[str], env: dict[str, str], timeout: float) -> float:
    started = time.perf_counter()
    out = subprocess.run([tradewind_bin(), *args], env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"tradewind {' '.join(args)} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return wall


def store(home: Path, sql: str) -> Any:
    with sqlite3.connect(home / "tradewind.db") as db:
        return db.execute(sql).fetchone()[0]


def measure(layout: str, k: int, timeout: float) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"tradewind-dag-factory-{layout}-{k}-"))
    home, dags = root / "home", root / "dags"
    home.mkdir()
    (write_yaml if layout == "yaml" else write_python)(dags, k)
    env = dict(os.environ, TRADEWIND_HOME=str(home))
    env.pop("TRADEWIND__CORE__DAGS_FOLDER", None)
    once = ["dag-processor", "--once", "--dags-folder", str(dags)]
    result: dict[str, Any] = {"layout": layout}
    result["parse"] = tradewind(once, env, timeout)
    result["dags"] = store(home, "select count(*) from dag where is_active")
    result["errors"] = store(home, "select count(*) from import_error")
    result["schedule"] = tradewind(["scheduler", "--exit-when-idle", "--dags-folder", str(dags)], env, timeout)
    result["runs_ok"] = store(home, "select count(*) from dag_run where state = 'success'")
    result["tis_ok"] = store(home, "select count(*) from task_instance where state = 'success'")
    parsed_at = store(home, "select max(last_parsed_at) from dag_file")
    result["unchanged"] = tradewind(once, env, timeout)
    result["unchanged_imports"] = int(store(home, "select max(last_parsed_at) from dag_file") != parsed_at)
    if layout == "yaml":
        client = dags / "clients" / "client_0.yml"
        client.write_text(client.read_text().replace("tags: [client]", "tags: [client, changed]"))
        result["one_changed"] = tradewind(once, env, timeout)
        result["changed_tags"] = store(home, "select tags from dag where dag_id = 'client_0'")
    result["ok"] = (
        result["dags"] == k and result["errors"] == 0 and result["runs_ok"] == k and result["tis_ok"] == 3 * k
    )
    return result


AIRFLOW_PARSE = """
import os, sys, time
from airflow.models.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(sys.argv[1])
print(f"{time.perf_counter() - started:.3f} {len(bag.dags)} {len(bag.import_errors)}")
"""


def airflow_parse(layout: str, k: int, timeout: float) -> dict[str, Any] | str:
    if not AIRFLOW_PYTHON.exists():
        return f"no Airflow bench venv at {AIRFLOW_PYTHON}"
    if layout == "yaml" and not (DAG_FACTORY_CACHE / "dagfactory").exists():
        installed = subprocess.run(
            [str(AIRFLOW_PYTHON), "-m", "pip", "install", "-q", "--no-deps", "--target", str(DAG_FACTORY_CACHE),
             "dag-factory==1.1.0"],
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if installed.returncode != 0:
            return f"pip could not install dag-factory: {installed.stderr.strip()[-300:]}"
    root = Path(tempfile.mkdtemp(prefix=f"airflow-dag-factory-{layout}-{k}-"))
    dags = root / "dags"
    (write_yaml if layout == "yaml" else write_python)(dags, k)
    env = dict(os.environ, AIRFLOW_HOME=str(root / "airflow"), AIRFLOW__CORE__DAGS_FOLDER=str(dags))
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    env["PYTHONPATH"] = str(DAG_FACTORY_CACHE)
    env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "ERROR"
    out = subprocess.run(
        [str(AIRFLOW_PYTHON), "-c", AIRFLOW_PARSE, str(dags)], env=env, capture_output=True, text=True, timeout=timeout
    )
    if out.returncode != 0:
        return f"failed: {out.stderr.strip()[-300:]}"
    seconds, count, errors = out.stdout.split()[-3:]
    return {"parse": float(seconds), "dags": int(count), "errors": int(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, default=1_000, help="number of DAGs (default 1000)")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--no-airflow", action="store_true", help="skip real dag-factory on real Airflow")
    args = parser.parse_args()
    k = args.k
    print(f"Hardware: {hardware()}; load average {os.getloadavg()[0]:.2f} at start")
    print(f"tradewind: {tradewind_source()}")
    print(f"K = {k:,} DAGs (a >> b >> c, EmptyOperator, @daily, one run due each); SQLite store; local workers\n")
    rows = [measure("yaml", k, args.timeout), measure("python", k, args.timeout)]
    header = (
        f"{'layout':<34}{'parse s':>9}{'schedule s':>12}{'total s':>9}{'target':>9}"
        f"{'unchanged s':>13}{'1 YAML changed s':>18}  checked"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        total = row["parse"] + row["schedule"]
        name = "YAML folder (dag-factory format)" if row["layout"] == "yaml" else "Python loop (globals())"
        changed = f"{row['one_changed']:.2f}" if "one_changed" in row else "-"
        met = ("met" if total < TARGET else "MISSED") if k == 1_000 else "-"
        checked = (
            f"{row['dags']} DAGs, {row['runs_ok']} runs, {row['tis_ok']} TIs ok"
            f"{'' if row['ok'] else ' -- WRONG COUNTS'}; re-read imported {row['unchanged_imports']} file(s)"
        )
        print(
            f"{name:<34}{row['parse']:>9.2f}{row['schedule']:>12.2f}{total:>9.2f}{met:>9}"
            f"{row['unchanged']:>13.2f}{changed:>18}  {checked}"
        )
    print(f"\n(target, for K = 1,000: parse + schedule under {TARGET:g} s; wall times of the CLI commands)")
    if args.no_airflow:
        return
    print("\nReal Airflow 3 (DagBag parse only, one process):")
    for layout, name in (("yaml", "YAML folder, real dag-factory 1.1.0"), ("python", "Python loop")):
        found = airflow_parse(layout, k, args.timeout)
        if isinstance(found, str):
            print(f"  {name:<38} {found}")
        else:
            print(f"  {name:<38} parse {found['parse']:.2f} s, {found['dags']} DAGs, {found['errors']} import errors")


if __name__ == "__main__":
    sys.exit(main())
