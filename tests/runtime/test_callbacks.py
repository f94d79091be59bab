"""Task callbacks are called as in Airflow 3: in the worker, with the context, for the outcome of
each try (retry, failure, success, skip, and before execute), and one that raises changes nothing."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

from tradewind.loader import load_dags
from tradewind.scheduler.dag_test import test_dag as run_dag

SOURCE = """
from datetime import datetime
from pathlib import Path
from airflow.sdk import DAG, task
from airflow.exceptions import AirflowSkipException

CALLS = Path({calls!r})

def note(context):
    ti = context["ti"]
    error = context.get("exception")
    with CALLS.open("a") as out:
        out.write(f"{{ti.task_id}} try {{ti.try_number}}: {{type(error).__name__ if error else '-'}}\\n")

def on(kind):
    def called(context):
        with CALLS.open("a") as out:
            out.write(kind + " ")
        note(context)
    return called

def broken(context):
    raise ValueError("callback bug")

with DAG("called_back", start_date=datetime(2025, 1, 1), schedule=None):
    @task(on_execute_callback=on("execute"), on_success_callback=[on("success"), broken])
    def works():
        return 1

    @task(retries=1, on_retry_callback=on("retry"), on_failure_callback=on("failure"))
    def fails():
        raise RuntimeError("no")

    @task(on_skipped_callback=on("skipped"))
    def skips():
        raise AirflowSkipException("not today")

    works()
    fails()
    skips()
"""


def test_task_callbacks_follow_each_outcome(tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "called_back.py").write_text(textwrap.dedent(SOURCE.format(calls=str(calls))))
    bag = load_dags(dags)
    assert bag.import_errors == {}
    dag = bag.get_dag("called_back")
    assert dag.import_warnings.messages() == []  # task callbacks are implemented
    log = io.StringIO()
    state = run_dag(dag, log, no_retry_delay=True)
    assert {r.task_id: str(r.state) for r in state.records()} == {
        "works": "success",
        "fails": "failed",
        "skips": "skipped",
    }
    assert sorted(calls.read_text().splitlines()) == sorted(
        [
            "execute works try 1: -",
            "success works try 1: -",
            "retry fails try 1: RuntimeError",
            "failure fails try 2: RuntimeError",
            "skipped skips try 1: -",
        ]
    )
    assert "on_success_callback broken failed with ValueError: callback bug" in log.getvalue()
