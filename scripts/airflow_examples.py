"""Every example DAG of Airflow 3.3.2, and what tradewind makes of it.

    python scripts/airflow_examples.py            # the table, on the terminal
    python scripts/airflow_examples.py --write    # ... and into docs/airflow-examples.md
    python scripts/airflow_examples.py observe --airflow PYTHON DAG_ID ...   # ask a real Airflow

The first form reads every file of ``airflow/example_dags/`` (and its subfolders) from the
apache_airflow_core-3 wheel in ``.cache/airflow-wheels`` (scripts/test downloads it), loads it with
tradewind, runs each DAG that needs no outside service with ``dags test`` for 2026-11-29, and
compares the run with what a real Airflow 3.3.2 gave for ``airflow dags test DAG_ID 2026-11-29``
(kept as data in ``tests/examples/airflow3_runs.py``).

``observe`` gathers that data: it runs ``airflow dags test`` with the given Python of an Airflow
3.3.2 virtualenv (for example ``/work/main/.bench-airflow/bin/python``), each DAG alone in a
throwaway AIRFLOW_HOME with a fresh SQLite metadata database, and prints the run state, task
instance states and return values read from that database, ready to paste into airflow3_runs.py.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from pprint import pformat
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WHEELS = ROOT / ".cache" / "airflow-wheels"
PAGE = ROOT / "docs" / "airflow-examples.md"
LOGICAL_DATE = datetime(2026, 11, 29, tzinfo=UTC)
PREFIX = "airflow/example_dags/"
sys.path.insert(0, str(ROOT / "tests" / "examples"))

import airflow3_runs  # noqa: E402

from tradewind.loader import load_dags  # noqa: E402
from tradewind.scheduler.dag_test import test_dag  # noqa: E402


def wheel() -> Path:
    found = sorted(WHEELS.glob("apache_airflow_core-3.*.whl"))
    if not found:
        raise SystemExit(f"no apache_airflow_core-3 wheel in {WHEELS}: run scripts/test, which downloads it")
    return found[-1]


def extract(target: Path) -> Path:
    """Write the wheel's example_dags folder under ``target``; returns that folder."""
    with zipfile.ZipFile(wheel()) as archive:
        for name in archive.namelist():
            if name.startswith(PREFIX) and not name.endswith("/"):
                archive.extract(name, target)
    return target / PREFIX


# --- observing a real Airflow ----------------------------------------------------------------

_LIST_DAGS = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(sys.argv[1])
print(json.dumps({"dags": sorted(bag.dag_ids), "errors": {k: v for k, v in bag.import_errors.items()}}))
"""


def observe(airflow_python: Path, dag_ids: list[str], timeout: float) -> None:
    """Run each DAG with a real Airflow's ``dags test`` and print what its database holds."""
    airflow = airflow_python.parent / "airflow"
    with tempfile.TemporaryDirectory(prefix="airflow-observe-") as tmp:
        examples = extract(Path(tmp))
        files = airflow3_runs.FILES
        if set(dag_ids) - set(files):
            files = _files_of(airflow_python, examples)
            print(f"# the example file of each DAG: {files!r}", flush=True)
        template = Path(tmp) / "template"
        template.mkdir()
        env = _airflow_env(template, Path(tmp) / "empty")
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
        for dag_id in dag_ids:
            if dag_id not in files:
                print(f"# {dag_id}: no example file of this Airflow defines it", flush=True)
                continue
            print(_observe_one(airflow, examples, files[dag_id], dag_id, template, timeout), flush=True)


def _files_of(airflow_python: Path, examples: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    for path in sorted(examples.glob("*.py")):
        with tempfile.TemporaryDirectory() as alone:
            shutil.copy(path, alone)
            out = subprocess.run(
                [airflow_python, "-c", _LIST_DAGS, alone],
                env=_airflow_env(Path(alone), Path(alone)),
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        for dag_id in json.loads(out.splitlines()[-1])["dags"]:
            files[dag_id] = path.name
    return files


def _airflow_env(home: Path, dags: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }


def _observe_one(airflow: Path, examples: Path, file: str, dag_id: str, template: Path, timeout: float) -> str:
    with tempfile.TemporaryDirectory(prefix="airflow-home-") as home_dir:
        home = Path(home_dir)
        shutil.copy(template / "airflow.db", home / "airflow.db")
        dags = home / "dags"
        dags.mkdir()
        shutil.copy(examples / file, dags / file)
        shutil.copytree(examples / "sql", dags / "sql")
        try:
            done = subprocess.run(
                [airflow, "dags", "test", dag_id, LOGICAL_DATE.date().isoformat()],
                env=_airflow_env(home, dags),
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            note = f"exit code {done.returncode}"
        except subprocess.TimeoutExpired:
            note = f"no end after {timeout:.0f}s"
        db = sqlite3.connect(home / "airflow.db")
        runs = db.execute("select state from dag_run where dag_id = ?", (dag_id,)).fetchall()
        tis = db.execute(
            "select task_id, map_index, state from task_instance where dag_id = ? order by task_id, map_index",
            (dag_id,),
        ).fetchall()
        values = {
            (task_id, map_index): json.loads(value) if isinstance(value, str) else value
            for task_id, map_index, value in db.execute(
                "select task_id, map_index, value from xcom where dag_id = ? and key = 'return_value'", (dag_id,)
            )
        }
        db.close()
    state = runs[0][0] if runs else None
    results = {
        (task_id if map_index < 0 else f"{task_id}[{map_index}]"): (ti_state, values.get((task_id, map_index)))
        for task_id, map_index, ti_state in tis
    }
    return f"# {note}\n{dag_id!r}: {pformat((file, state, results), width=110)},"


# --- running the examples on tradewind ---------------------------------------------------------


@dataclass(frozen=True)
class Row:
    file: str
    dag_id: str
    imports: str
    run: str
    matches: str


def rows() -> Iterator[Row]:
    """One row per DAG of each example file (one row for a file that defines none)."""
    with tempfile.TemporaryDirectory(prefix="tradewind-examples-") as tmp:
        examples = extract(Path(tmp))
        paths = [p for p in examples.rglob("*.py") if p.name != "__init__.py"]
        for path in sorted(paths, key=lambda p: (len(p.relative_to(examples).parts), str(p))):
            file = path.relative_to(examples).as_posix()
            alone = Path(tmp) / "alone" / file.replace("/", "_")
            alone.mkdir(parents=True)
            shutil.copy(path, alone / path.name)
            shutil.copytree(examples / "sql", alone / "sql")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bag = load_dags(alone)
            in_airflow = sorted(d for d, f in airflow3_runs.FILES.items() if f == file)
            if bag.import_errors:
                error = _first_line(next(iter(bag.import_errors.values())).error)
                for dag_id in in_airflow or ["-"]:
                    note = airflow3_runs.FILE_NOTES.get(file)
                    said = error + _airflow_gave(dag_id, in_airflow) + (f"; {note}" if note else "")
                    yield Row(file, dag_id, "error", "-", said)
            elif not bag.dags:
                yield Row(
                    file, "-", "yes", "-", "no DAG in it, as in Airflow" if not in_airflow else "no: Airflow finds DAGs"
                )
            for dag_id in sorted(bag.dags):
                yield _run(file, dag_id, bag.get_dag(dag_id))
            if not bag.import_errors:
                for dag_id in sorted(set(in_airflow) - set(bag.dags)):
                    yield Row(file, dag_id, "no DAG", "-", "no: Airflow finds this DAG in the file, tradewind does not")


def _run(file: str, dag_id: str, dag: Any) -> Row:
    skip = airflow3_runs.NOT_RUN.get(dag_id)
    if skip:
        return Row(file, dag_id, "yes", "not run", skip)
    try:
        state = test_dag(dag, io.StringIO(), logical_date=LOGICAL_DATE, no_retry_delay=True)
    except Exception as error:  # a DAG that cannot start (a required param, say) is a result too
        run, results = f"error: {type(error).__name__}", None
    else:
        run = str(state.dag_run_state())
        results = {
            (r.task_id if r.map_index < 0 else f"{r.task_id}[{r.map_index}]"): (str(r.state), r.return_value)
            for r in state.records()
        }
    return Row(file, dag_id, "yes", run, _compare(dag_id, run, results))


def _compare(dag_id: str, run: str, results: dict[str, tuple[str, Any]] | None) -> str:
    observed = airflow3_runs.RUNS.get(dag_id)
    if observed is None:
        return "not observed on Airflow"
    _, airflow_state, airflow_results = observed
    why = f" ({airflow3_runs.DIFFERS[dag_id]})" if dag_id in airflow3_runs.DIFFERS else ""
    if run != str(airflow_state):
        return f"no: Airflow's run {airflow_state}{why}"
    if results is None:
        return "yes"
    differ = sorted(set(results) ^ set(airflow_results))
    if differ:
        return "no: other tasks (" + ", ".join(differ[:4]) + ")" + why
    states = sorted(t for t in results if results[t][0] != airflow_results[t][0])
    if states:
        return (
            "no: states of "
            + ", ".join(f"{t} ({results[t][0]}, Airflow {airflow_results[t][0]})" for t in states)
            + why
        )
    values = sorted(t for t in results if results[t][1] != airflow_results[t][1])
    if values:
        return "no: return values of " + ", ".join(values) + why
    return "yes, but DIFFERS in tests/examples/airflow3_runs.py lists it: remove it there" if why else "yes"


def _airflow_gave(dag_id: str, in_airflow: list[str]) -> str:
    if not in_airflow:
        return "; Airflow finds no DAG in it"
    observed = airflow3_runs.RUNS.get(dag_id)
    if observed is None:
        return ""
    why = airflow3_runs.DIFFERS.get(dag_id)
    return f"; Airflow's run: {observed[1]}" + (f" ({why})" if why else "")


def _first_line(error: str) -> str:
    lines = [line for line in error.strip().splitlines() if line.strip()]
    line = next((line for line in lines if "Error" in line.split(":", 1)[0]), lines[0] if lines else "")
    line = line.replace(" (see docs/airflow-compatibility.md for what it provides and what it does not)", "")
    return re.sub(
        r": tradewind (runs DAG files without Airflow installed and )?does not provide the Airflow \w+ [\w.]+", "", line
    )


def table(found: list[Row]) -> str:
    lines = ["| file | dag_id | imports | run | matches Airflow 3.3.2 |", "| --- | --- | --- | --- | --- |"]
    for row in found:
        cells = [f"`{row.file}`", f"`{row.dag_id}`" if row.dag_id != "-" else "-", row.imports, row.run, row.matches]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def page(found: list[Row]) -> str:
    dags = [row for row in found if row.dag_id != "-"]
    ran = [row for row in dags if row.run not in ("-", "not run")]
    compared = [row for row in ran if row.dag_id in airflow3_runs.RUNS]
    same = [row for row in compared if row.matches == "yes"]
    summary = (
        f"{len(dags)} DAGs: {sum(row.imports == 'yes' for row in dags)} import, "
        f"{sum(row.run == 'not run' for row in dags)} need an outside service and are not run, {len(ran)} run; "
        f"of the {len(compared)} run that were also run on Airflow, {len(same)} give what Airflow gave."
    )
    return (
        "# Airflow 3.3.2's example DAGs on tradewind\n\n"
        "Generated by `python scripts/airflow_examples.py --write`; `tests/examples/test_examples_page.py`\n"
        "fails when this page is not what the script gives. Each file of `airflow/example_dags/` in the\n"
        "apache-airflow-core 3.3.2 wheel is loaded by tradewind alone in a folder (with `sql/` beside it);\n"
        "each DAG that needs no outside service runs with `dags test` for 2026-11-29, and its run state,\n"
        "task instances, their states and return values are compared with what a real Airflow 3.3.2 gave\n"
        "for `airflow dags test DAG_ID 2026-11-29` (kept in `tests/examples/airflow3_runs.py`; values that\n"
        "depend on the date or the machine are left out of the comparison). What tradewind supports and\n"
        "does not is on [the compatibility page](airflow-compatibility.md).\n\n"
        f"{summary}\n\n" + table(found) + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    parser.add_argument("--write", action="store_true", help=f"also write the table to {PAGE.relative_to(ROOT)}")
    obs = sub.add_parser("observe", help="run DAGs on a real Airflow 3.3.2 and print what it gave")
    obs.add_argument("--airflow", type=Path, required=True, help="the python of an Airflow 3.3.2 virtualenv")
    obs.add_argument("--timeout", type=float, default=600, help="seconds one `dags test` may take")
    obs.add_argument("dag_ids", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "observe":
        observe(args.airflow, args.dag_ids, args.timeout)
        return 0
    found = list(rows())
    text = page(found)
    print(table(found))
    if args.write:
        PAGE.write_text(text, encoding="utf-8")
        print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
