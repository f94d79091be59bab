"""Clearing, written once (RunState.clear_instances): by task, or one map index, in memory —
the store's `tasks clear` restores the run and calls the same method."""

from __future__ import annotations

import io
from datetime import datetime

from tradewind import DAG, task
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.executors.inline import InlineExecutor
from tradewind.scheduler.dag_test import drive
from tradewind.scheduler.dag_test import test_dag as run_dag


def fan_out() -> DAG:
    with DAG("clearing", start_date=datetime(2025, 1, 1)) as dag:

        @task(retries=1)
        def work(x):
            return x * 10

        @task
        def total(values):
            return sum(values)

        total(work.expand(x=[1, 2, 3]))
    return dag


def rerun(dag: DAG, state) -> None:
    drive(state, InlineExecutor(lambda item: dag.task_dict[item.key.task_id], io.StringIO()), io.StringIO())


def test_clearing_one_map_index_and_the_reduce_reruns_only_those() -> None:
    dag = fan_out()
    state = run_dag(dag, io.StringIO())
    reset = state.clear_instances({"work": {1}, "total": None})
    assert sorted((r.task_id, r.map_index) for r in reset) == [("total", -1), ("work", 1)]
    assert reset[0].max_tries == 1 + 1 + 1  # tries used so far + retries + 1
    rerun(dag, state)
    tries = {(r.task_id, r.map_index): (r.state, r.try_number) for r in state.records()}
    assert tries == {
        ("work", 0): (S.SUCCESS, 1),
        ("work", 1): (S.SUCCESS, 2),
        ("work", 2): (S.SUCCESS, 1),
        ("total", -1): (S.SUCCESS, 2),
    }
    assert {r.task_id: r.return_value for r in state.records() if r.map_index == -1} == {"total": 60}


def test_clearing_a_whole_mapped_task_expands_it_again() -> None:
    dag = fan_out()
    state = run_dag(dag, io.StringIO())
    state.clear_instances({"work": None, "total": None})
    assert [(r.task_id, r.map_index, r.state) for r in state.records() if r.task_id == "work"] == [("work", -1, None)]
    rerun(dag, state)
    assert [(r.map_index, r.state, r.try_number) for r in state.records() if r.task_id == "work"] == [
        (0, S.SUCCESS, 2),
        (1, S.SUCCESS, 2),
        (2, S.SUCCESS, 2),
    ]
