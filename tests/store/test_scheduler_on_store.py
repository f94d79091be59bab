"""The whole orchestrator on each store: a scheduler with real worker processes runs a mapped
fan-out and a mapped task group to success on a SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tradewind.executors.local import LocalExecutor, task_log_path
from tradewind.processor import DagProcessor
from tradewind.scheduler.loop import Scheduler
from tradewind.scheduler.persistence import StoreGateway

DAG_FILE = """
    from datetime import datetime
    from tradewind import dag, task, task_group

    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def on_store():
        @task
        def numbers():
            return list(range(20))

        @task
        def double(x):
            return x * 2

        @task
        def total(values):
            return sum(values)

        @task
        def label(x):
            return f"n{x}"

        @task
        def join(values):
            return "".join(values)

        @task_group
        def per_number(x):
            return label(double(x))

        total(double.override(task_id="doubled").expand(x=numbers()))
        join.override(task_id="labels")(per_number.expand(x=[1, 2, 3]))

    on_store()
"""


def test_scheduler_runs_mapping_to_success(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "on_store.py").write_text(textwrap.dedent(DAG_FILE))
    gateway = StoreGateway(engine)
    processor = DagProcessor(dags, engine)
    processor.run_once()
    context = gateway.create_manual_run(gateway.get_dag("on_store"), None, {})
    scheduler = Scheduler(
        gateway, LocalExecutor(parallelism=2), processor=processor, log=io.StringIO(), log_path=task_log_path
    )
    scheduler.run(until_idle=True)

    assert [(r.run_id, r.state) for r in gateway.list_runs("on_store")] == [(context.run_id, "success")]
    rows = gateway.task_states("on_store", context.run_id)
    assert {r["state"] for r in rows} == {"success"}
    assert sorted(r["map_index"] for r in rows if r["task_id"] == "doubled") == list(range(20))
    records = {(r.task_id, r.map_index): r for r in gateway.load_records("on_store", context.run_id)}
    assert records[("total", -1)].return_value == sum(x * 2 for x in range(20))
    assert records[("labels", -1)].return_value == "n2n4n6"
    assert [records[("per_number.label", i)].return_value for i in range(3)] == ["n2", "n4", "n6"]
