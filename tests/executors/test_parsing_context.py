"""get_parsing_context(): a worker tells the DAG file which DAG and task it imports it for, so a
factory of many DAGs can build only that one; elsewhere both are None and every DAG is built."""

from __future__ import annotations

import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.executors.local_worker import DagCache, WorkerSetup, run_one
from tradewind.loader import load_dags
from tradewind.runtime.work import RunContext, WorkItem

FACTORY = """
import os
from datetime import datetime
from airflow.sdk import DAG, get_parsing_context
from airflow.decorators import task

current = get_parsing_context().dag_id
with open(os.environ["PARSE_JOURNAL"], "a") as journal:
    journal.write(f"{current}\\n")
for i in range(50):
    dag_id = f"client_{i}"
    if current is not None and current != dag_id:
        continue  # the worker runs another DAG: skip building this one
    with DAG(dag_id, start_date=datetime(2025, 1, 1), schedule=None) as dag:
        @task
        def hello(n=i):
            return n
        hello()
    globals()[dag_id] = dag
"""


def item_for(path: Path, dag_id: str) -> WorkItem:
    moment = datetime(2025, 1, 1).astimezone()
    context = RunContext(dag_id, "r1", moment, moment, moment)
    return WorkItem(key=TaskInstanceKey(dag_id, "r1", "hello", -1, 1), context=context, dag_file=str(path))


def test_a_factory_builds_only_the_dag_a_worker_asks_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    journal = tmp_path / "journal.txt"
    monkeypatch.setenv("PARSE_JOURNAL", str(journal))
    path = tmp_path / "factory.py"
    path.write_text(textwrap.dedent(FACTORY))

    assert len(load_dags(path).dags) == 50  # outside a worker: every DAG
    assert journal.read_text().split() == ["None"]

    cache, logs = DagCache(), WorkerSetup(str(tmp_path / "logs"), {}, list(sys.path))
    first = run_one(item_for(path, "client_7"), cache, logs)
    again = run_one(item_for(path, "client_7"), cache, logs)
    other = run_one(item_for(path, "client_31"), cache, logs)
    assert [r.state for r in (first, again, other)] == [S.SUCCESS] * 3
    assert (first.return_value, other.return_value) == (7, 31)
    # one import for client_7 (the second task reused it), one for client_31
    assert journal.read_text().split() == ["None", "client_7", "client_31"]
