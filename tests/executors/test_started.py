"""The local executor reports when a try starts: real worker processes, a task that waits on a
file. The start (time, host, worker pid) arrives while the task still runs; a start never
arrives after its try's result; short tries are told by their results alone."""

from __future__ import annotations

import os
import socket
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradewind.definitions.dag import DAG
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.executors.local import LocalExecutor
from tradewind.runtime.work import TaskResult, TaskStarted, WorkItem
from tradewind.scheduler.dag_test import make_run_context

pytestmark = pytest.mark.slow  # worker processes

GATED = """
    import time
    from pathlib import Path
    from tradewind import DAG, task

    GATE = Path({gate!r})

    def wait_for_gate():
        deadline = time.monotonic() + 30
        while not GATE.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the gate never opened")
            time.sleep(0.01)
        return "opened"

    with DAG("gated"):
        task(wait_for_gate, task_id="waiter")()
        task(lambda: "quick", task_id="quick")()
"""


def item(path: Path, task_id: str, map_index: int = -1) -> WorkItem:
    context = make_run_context(DAG("gated"), datetime(2025, 1, 1))
    key = TaskInstanceKey("gated", context.run_id, task_id, map_index, 1)
    return WorkItem(key=key, context=context, dag_file=str(path))


def take(executor: LocalExecutor, timeout: float) -> tuple[list[TaskResult], list[TaskStarted]]:
    results = executor.next_results(timeout=timeout)
    return results, executor.take_started()


def test_a_running_try_is_reported_before_its_result_with_host_and_worker_pid(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    path = tmp_path / "gated.py"
    path.write_text(textwrap.dedent(GATED.format(gate=str(gate))))
    executor = LocalExecutor(parallelism=1, log_folder=tmp_path / "logs")
    waiter = item(path, "waiter")
    try:
        sent_at = datetime.now(UTC)
        executor.submit([waiter])
        results, started = take(executor, 0.2)
        deadline = time.monotonic() + 30
        while not started and not results and time.monotonic() < deadline:
            results, started = take(executor, 0.2)
        assert results == []  # it waits on the gate
        (began,) = started
        assert began.key == waiter.key
        assert sent_at <= began.started_at <= datetime.now(UTC)
        assert began.hostname == socket.gethostname()
        assert isinstance(began.pid, int) and began.pid != os.getpid()

        gate.write_text("open")
        results, started = take(executor, 30)
        assert [(r.key, r.state, r.return_value) for r in results] == [(waiter.key, S.SUCCESS, "opened")]
        assert started == []  # told once
        assert results[0].started_at <= results[0].ended_at

        # short tries: a start, if one is sent at all, never comes after its result
        quick = [item(path, "quick", index) for index in range(200)]
        executor.submit(quick)
        ended: set[TaskInstanceKey] = set()
        starts: list[TaskStarted] = []
        deadline = time.monotonic() + 60
        while len(ended) < len(quick) and time.monotonic() < deadline:
            results, started = take(executor, 0.5)
            assert not {s.key for s in started} & ended, "a start came after its result"
            starts += started
            ended |= {r.key for r in results}
        assert ended == {i.key for i in quick}
        assert len(starts) < len(quick)
    finally:
        executor.stop()
