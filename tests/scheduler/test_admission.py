"""One admission path: `dags test` admits work through the scheduler's rules (pools,
max_active_tasks), so a DAG that cannot run under the scheduler does not pass its test."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest

from tradewind import DAG, task
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.scheduler.dag_test import test_dag as run_dag


@pytest.fixture(autouse=True)
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))  # no store: only default_pool exists


def test_a_task_in_a_pool_that_does_not_exist_fails_saying_how_to_create_it() -> None:
    with DAG("pools", start_date=datetime(2025, 1, 1)) as dag:

        @task(pool="missing")
        def in_missing_pool():
            return 1

        @task
        def after(x):
            return x

        after(in_missing_pool())
    log = io.StringIO()
    state = run_dag(dag, log)
    records = {r.task_id: r for r in state.records()}
    assert records["in_missing_pool"].state is S.FAILED
    assert records["after"].state is S.UPSTREAM_FAILED
    assert records["in_missing_pool"].error is not None
    assert "tradewind pools set missing SLOTS" in records["in_missing_pool"].error.message
    assert "pool 'missing' does not exist" in log.getvalue()


def test_max_active_tasks_one_runs_a_map_one_instance_at_a_time() -> None:
    with DAG("serial", start_date=datetime(2025, 1, 1), max_active_tasks=1) as dag:

        @task
        def work(x):
            return x * 2

        @task
        def total(values):
            return sum(values)

        total(work.expand(x=[1, 2, 3]))
    state = run_dag(dag, io.StringIO())
    records = {(r.task_id, r.map_index): r for r in state.records()}
    assert records[("total", -1)].return_value == 12
    assert {r.state for r in records.values()} == {S.SUCCESS}
