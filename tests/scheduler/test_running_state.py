"""queued -> running in RunState: a worker's start event moves a queued instance on the same try
to running (start date, host, pid); a start that comes late changes nothing, so nothing goes
backwards. Table-driven, then the same transition through ``dags test``'s inline driver."""

from __future__ import annotations

import io
import os
import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tradewind import DAG, task
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import DagRunState
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.runtime.work import TaskResult, TaskStarted
from tradewind.scheduler.dag_test import make_run_context
from tradewind.scheduler.dag_test import test_dag as run_dag
from tradewind.scheduler.run_state import RunState

EARLIER = datetime(2025, 1, 1, 0, 0, tzinfo=UTC)
BEGAN = datetime(2025, 1, 1, 0, 5, tzinfo=UTC)


def one_task_run(retries: int = 0) -> tuple[RunState, TaskInstanceKey]:
    with DAG("running_state") as dag:

        @task(retries=retries, retry_delay=timedelta(0))
        def work() -> int:
            return 1

        work()
    state = RunState(dag, make_run_context(dag, datetime(2025, 1, 1)))
    (record,) = state.schedule()
    state.mark_queued([record])
    state.drain_changes()
    return state, TaskInstanceKey("running_state", state.context.run_id, "work", -1, record.try_number)


def started(key: TaskInstanceKey, **changes: object) -> TaskStarted:
    return TaskStarted(replace(key, **changes), BEGAN, "worker-host", 4242)  # type: ignore[arg-type]


def result(key: TaskInstanceKey, state: S = S.SUCCESS) -> TaskResult:
    return TaskResult(key, state, EARLIER, EARLIER + timedelta(seconds=1), return_value=1, xcoms={"return_value": 1})


def put_in(state: RunState, key: TaskInstanceKey, where: str) -> None:
    """Bring the queued instance to ``where`` before the start event arrives."""
    record = state.instances["work"][-1]
    if where == "queued":
        return
    if where == "running":
        state.mark_running([TaskStarted(key, EARLIER, "first-host", 1)])
    elif where == "success":
        state.apply_result(result(key))
    elif where == "up_for_retry":
        state.apply_result(result(key, S.FAILED))
    elif where == "failed":
        state.apply_result(result(key, S.FAILED))
    elif where == "cleared":
        state.apply_result(result(key))
        state.clear({"work"})
    elif where == "next try queued":
        state.apply_result(result(key, S.FAILED))
        (again,) = state.schedule()
        state.mark_queued([again])
    else:  # pragma: no cover - a typo in the table
        raise AssertionError(where)
    state.drain_changes()
    assert record is state.instances["work"][-1]


# (retries, where the instance is when the start arrives, which try the start is of,
#  state after, start date after, host after, moved)
TABLE = [
    (0, "queued", 1, S.RUNNING, BEGAN, "worker-host", 1),
    (0, "running", 1, S.RUNNING, EARLIER, "first-host", 0),  # a second start of the same try
    (0, "success", 1, S.SUCCESS, EARLIER, None, 0),  # the result came first (a fast task)
    (0, "failed", 1, S.FAILED, EARLIER, None, 0),
    (1, "up_for_retry", 1, S.UP_FOR_RETRY, EARLIER, None, 0),
    (0, "cleared", 1, None, None, None, 0),  # cleared meanwhile: to be scheduled again
    (1, "next try queued", 1, S.QUEUED, EARLIER, None, 0),  # the start of the try before
    (1, "next try queued", 2, S.RUNNING, BEGAN, "worker-host", 1),
]


@pytest.mark.parametrize(("retries", "where", "try_number", "after", "start_date", "host", "moved"), TABLE)
def test_a_start_moves_only_a_queued_instance_on_its_try(
    retries: int,
    where: str,
    try_number: int,
    after: S | None,
    start_date: datetime | None,
    host: str | None,
    moved: int,
) -> None:
    state, key = one_task_run(retries)
    put_in(state, key, where)
    before = dict(state.counts["work"])

    assert state.mark_running([started(key, try_number=try_number)]) == moved

    record = state.instances["work"][-1]
    assert record.state is after
    assert record.started_at == start_date
    assert record.hostname == host
    if moved:
        assert record.pid == 4242 and record.ended_at is None
        assert state.counts["work"][S.RUNNING] == 1 and state.counts["work"][S.QUEUED] == 0
        assert state.drain_changes() == [record]  # written with the turn's other changes
    else:
        assert dict(state.counts["work"]) == before
        assert state.drain_changes() == []


def test_a_start_for_an_instance_the_run_does_not_have_is_ignored() -> None:
    state, key = one_task_run()
    assert state.mark_running([started(key, task_id="gone"), started(key, map_index=3)]) == 0
    assert state.instances["work"][-1].state is S.QUEUED


def test_a_running_instance_ends_with_its_result_and_keeps_where_it_ran() -> None:
    state, key = one_task_run(retries=1)
    state.mark_running([started(key)])
    assert state.dag_run_state() is DagRunState.RUNNING and not state.deadlocked()

    state.apply_result(result(key, S.FAILED))  # retried by its rules, as from queued
    record = state.instances["work"][-1]
    assert (record.state, record.hostname, record.pid) == (S.UP_FOR_RETRY, "worker-host", 4242)
    (again,) = state.schedule()
    assert (again.hostname, again.pid) == (None, None)  # a new try: where it runs is not known yet
    state.mark_queued([again])
    second = replace(key, try_number=2)
    state.mark_running([TaskStarted(second, BEGAN + timedelta(minutes=1), "other-host", 7)])
    assert (record.state, record.hostname, record.pid) == (S.RUNNING, "other-host", 7)
    state.apply_result(result(second))
    assert (record.state, record.started_at, record.return_value) == (S.SUCCESS, EARLIER, 1)
    assert state.dag_run_state() is DagRunState.SUCCESS


def test_clearing_forgets_where_the_last_try_ran() -> None:
    state, key = one_task_run()
    state.mark_running([started(key)])
    state.apply_result(result(key))
    state.clear({"work"})
    record = state.instances["work"][-1]
    assert (record.state, record.hostname, record.pid, record.started_at) == (None, None, None, None)


def test_dags_test_passes_every_instance_through_running_in_this_process() -> None:
    with DAG("inline_running") as dag:

        @task
        def numbers() -> list[int]:
            return [1, 2, 3]

        @task
        def double(x: int) -> int:
            return 2 * x

        double.expand(x=numbers())

    state = run_dag(dag, io.StringIO())

    records = state.records()
    assert [(r.task_id, r.map_index, r.state) for r in records] == [
        ("numbers", -1, S.SUCCESS),
        ("double", 0, S.SUCCESS),
        ("double", 1, S.SUCCESS),
        ("double", 2, S.SUCCESS),
    ]
    assert {(r.hostname, r.pid) for r in records} == {(socket.gethostname(), os.getpid())}
