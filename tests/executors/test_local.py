"""The local executor with real worker processes: whole DAG runs through ``drive``, log files,
parallelism, a worker killed mid-task, and DAG files the worker cannot use."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import textwrap
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from tradewind.definitions.dag import DAG
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.executors.local import LocalExecutor, task_log_path
from tradewind.loader import load_dags
from tradewind.runtime.work import TaskResult, WorkItem
from tradewind.scheduler.dag_test import drive, make_run_context
from tradewind.scheduler.run_state import InstanceRecord, RunState

LOGICAL_DATE = datetime(2025, 1, 1)
RUN_ID = "manual__2025-01-01T00:00:00+00:00"
RUN_FOLDER = "run_id=manual__2025-01-01%5400%3A00%3A00+00%3A00"  # RUN_ID percent-encoded (T, ':' included)


def write_dag(folder: Path, source: str, name: str = "dag_file.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return path


def run(dag: DAG, executor: LocalExecutor, log: io.StringIO | None = None) -> dict[tuple[str, int], InstanceRecord]:
    state = RunState(dag, make_run_context(dag, LOGICAL_DATE))
    drive(state, executor, log or io.StringIO(), no_retry_delay=True)
    return {(r.task_id, r.map_index): r for r in state.records()}


def item_for(path: Path, dag_id: str, task_id: str, **key: int) -> WorkItem:
    dag = DAG(dag_id)  # only its id and timetable are read to build the run context
    context = make_run_context(dag, LOGICAL_DATE)
    return WorkItem(key=TaskInstanceKey(dag_id, context.run_id, task_id, **key), context=context, dag_file=str(path))


def collect(executor: LocalExecutor, count: int, limit: float = 30) -> list[TaskResult]:
    results: list[TaskResult] = []
    deadline = time.monotonic() + limit
    while len(results) < count and time.monotonic() < deadline:
        results += executor.next_results(timeout=0.5)
    return results


def wait_for_file(path: Path, limit: float = 30) -> str:
    deadline = time.monotonic() + limit
    while not (path.exists() and path.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return path.read_text()


# DAGs whose tasks coordinate with the test through marker files in FOLDER
MARKER_DAGS = """
    import os, time
    from datetime import datetime
    from pathlib import Path
    from tradewind import DAG, task

    FOLDER = Path({folder!r})

    def wait_for(name):
        deadline = time.monotonic() + 30
        while not (FOLDER / name).exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{{name}} did not appear")
            time.sleep(0.01)

    def meet(me, other):
        (FOLDER / me).write_text("here")
        wait_for(other)

    def sleep_on_first_try():
        if not (FOLDER / "pid").exists():
            (FOLDER / "pid").write_text(str(os.getpid()))  # for the test to kill
            time.sleep(60)
        return "second try"

    def slow():
        (FOLDER / "started").write_text("yes")
        time.sleep(1)
        (FOLDER / "done").write_text("yes")

    with DAG("meet", start_date=datetime(2025, 1, 1), schedule=None):
        task(meet, task_id="left")("left", "right"), task(meet, task_id="right")("right", "left")

    with DAG("victim", start_date=datetime(2025, 1, 1), schedule=None):
        task(sleep_on_first_try, task_id="sleeper", retries=1, retry_delay=0)()

    with DAG("pool"):  # for tests that submit WorkItems themselves
        task(sleep_on_first_try, task_id="sleeper")()
        task(lambda: wait_for("release") or "released", task_id="blocker")()
        task(lambda: "quick", task_id="quick")()
        task(slow, task_id="slow")()
"""


def marker_dags(folder: Path) -> Path:
    return write_dag(folder, MARKER_DAGS.format(folder=str(folder)), "marker_dags.py")


def test_mapped_fan_out_runs_in_worker_processes(tmp_path: Path) -> None:
    path = write_dag(
        tmp_path,
        """
        import os
        from datetime import datetime
        from tradewind import dag, task

        @dag(dag_id="fan_out", start_date=datetime(2025, 1, 1), schedule=None)
        def fan_out():
            @task
            def numbers():
                return list(range(50))

            @task
            def double(x):
                return {"value": x * 2, "pid": os.getpid()}

            @task
            def total(results):
                return sum(r["value"] for r in results)

            total(double.expand(x=numbers()))

        fan_out()
        """,
    )
    tis = run(load_dags(path).get_dag("fan_out"), LocalExecutor(parallelism=2, log_folder=tmp_path / "logs"))
    doubled = [tis[("double", i)] for i in range(50)]
    assert [ti.state for ti in doubled] == [S.SUCCESS] * 50
    assert [ti.return_value["value"] for ti in doubled] == [2 * i for i in range(50)]
    pids = {ti.return_value["pid"] for ti in doubled}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert tis[("total", -1)].return_value == 2 * sum(range(50))


def test_each_task_try_logs_to_its_own_file_at_the_documented_path(tmp_path: Path) -> None:
    path = write_dag(
        tmp_path,
        """
        import logging
        from datetime import datetime
        from tradewind import DAG, task

        with DAG("logs", start_date=datetime(2025, 1, 1), schedule=None) as dag:
            @task
            def talk():
                print("hello from talk")
                logging.getLogger("user").warning("a warning from talk")

            @task
            def each(x):
                print(f"element {x}")

            talk() >> each.expand(x=["a", "b"])
        """,
    )
    logs = tmp_path / "logs"
    run(load_dags(path).get_dag("logs"), LocalExecutor(parallelism=2, log_folder=logs))
    run_folder = logs / "dag_id=logs" / RUN_FOLDER
    talk = (run_folder / "task_id=talk" / "map_index=-1" / "attempt=1.log").read_text()
    assert "hello from talk" in talk and "WARNING - a warning from talk" in talk
    assert "element b" in (run_folder / "task_id=each" / "map_index=1" / "attempt=1.log").read_text()
    item = item_for(path, "logs", "each", map_index=1)
    assert task_log_path(item, logs) == run_folder / "task_id=each" / "map_index=1" / "attempt=1.log"


def test_two_workers_run_two_tasks_at_the_same_time(tmp_path: Path) -> None:
    # each task waits for the other's marker: they can only both succeed if they overlap
    dag = load_dags(marker_dags(tmp_path)).get_dag("meet")
    tis = run(dag, LocalExecutor(parallelism=2, log_folder=tmp_path / "logs"))
    assert [tis[(t, -1)].state for t in ("left", "right")] == [S.SUCCESS, S.SUCCESS]


def warm_up(executor: LocalExecutor, path: Path) -> None:
    """Run a few quick tasks: the executor then queues many items per worker."""
    executor.submit([item_for(path, "pool", "quick", map_index=100 + i) for i in range(10)])
    assert len(collect(executor, 10)) == 10


@pytest.mark.slow
def test_a_worker_killed_mid_task_fails_that_try_and_the_retry_succeeds(tmp_path: Path) -> None:
    dag = load_dags(marker_dags(tmp_path)).get_dag("victim")
    logs = tmp_path / "logs"
    log = io.StringIO()
    outcome: dict[tuple[str, int], InstanceRecord] = {}
    driver = threading.Thread(
        target=lambda: outcome.update(run(dag, LocalExecutor(parallelism=2, log_folder=logs), log)), daemon=True
    )
    driver.start()
    os.kill(int(wait_for_file(tmp_path / "pid")), signal.SIGKILL)
    driver.join(60)
    sleeper = outcome[("sleeper", -1)]
    assert (sleeper.state, sleeper.try_number, sleeper.return_value) == (S.SUCCESS, 2, "second try")
    assert "failed on try 1 of 2" in log.getvalue()
    first_try = logs / "dag_id=victim" / RUN_FOLDER / "task_id=sleeper" / "map_index=-1" / "attempt=1.log"
    assert "died (exit code -9, SIGKILL) while running task sleeper" in first_try.read_text()


@pytest.mark.slow
def test_items_queued_on_a_dead_worker_go_to_its_replacement(tmp_path: Path) -> None:
    path = marker_dags(tmp_path)
    executor = LocalExecutor(parallelism=1, log_folder=tmp_path / "logs")
    try:
        warm_up(executor, path)
        executor.submit([item_for(path, "pool", t, map_index=i) for i, t in enumerate(("sleeper", "quick", "quick"))])
        os.kill(int(wait_for_file(tmp_path / "pid")), signal.SIGKILL)
        results = {r.key.map_index: r for r in collect(executor, 3)}
    finally:
        executor.stop()
    died = results[0]
    assert (died.state, died.retryable, died.error and died.error.type) == (S.FAILED, True, "WorkerDied")
    assert died.error and "died (exit code -9, SIGKILL) while running task sleeper[0]" in died.error.message
    assert [(results[i].state, results[i].key.try_number) for i in (1, 2)] == [(S.SUCCESS, 1), (S.SUCCESS, 1)]


def test_an_idle_worker_takes_over_the_items_queued_behind_a_long_task(tmp_path: Path) -> None:
    path = marker_dags(tmp_path)
    executor = LocalExecutor(parallelism=2, log_folder=tmp_path / "logs")
    try:
        warm_up(executor, path)
        executor.submit(
            [item_for(path, "pool", "blocker")] + [item_for(path, "pool", "quick", map_index=i) for i in range(7)]
        )
        quick = collect(executor, 7)  # the blocker waits until the quick ones are all done
        (tmp_path / "release").write_text("go")
        blocker = collect(executor, 1)
    finally:
        executor.stop()
    assert sorted(r.key.map_index for r in quick) == list(range(7))
    assert [r.return_value for r in blocker] == ["released"]


def test_a_dag_file_the_worker_cannot_use_fails_the_task_with_the_error(tmp_path: Path) -> None:
    broken = write_dag(tmp_path, "from tradewind import DAG\nraise ValueError('the database is down')\n")
    fine = write_dag(tmp_path, "from tradewind import DAG\nwith DAG('here'):\n    pass\n", "fine.py")
    logs = tmp_path / "logs"
    items = [
        item_for(broken, "a", "t"),
        item_for(tmp_path / "nowhere.py", "b", "t"),
        item_for(fine, "c", "t"),
        item_for(fine, "here", "nope"),
    ]
    executor = LocalExecutor(parallelism=1, log_folder=logs)
    try:
        executor.submit(items)
        results = {r.key.dag_id: r for r in collect(executor, 4)}
    finally:
        executor.stop()
    assert [results[d].state for d in "abc"] + [results["here"].state] == [S.FAILED] * 4
    errors = {dag_id: result.error for dag_id, result in results.items()}
    assert errors["a"] and errors["a"].type == "DagFileImportError" and str(broken) in errors["a"].message
    assert "ValueError: the database is down (line 2)" in errors["a"].message
    assert "the database is down" in task_log_path(items[0], logs).read_text()
    assert errors["b"] and "cannot read DAG file" in errors["b"].message
    assert errors["c"] and f"DAG 'c' is not defined in {fine} (DAGs there: here)" in errors["c"].message
    assert errors["here"] and errors["here"].message.startswith("Task 'nope' is not in DAG 'here'")


def test_the_worker_imports_a_changed_dag_file_again_when_the_hash_says_so(tmp_path: Path) -> None:
    source = "from tradewind import DAG, task\nwith DAG('versions'):\n    task(lambda: {!r}, task_id='which')()\n"
    path = write_dag(tmp_path, source.format("v1"))
    executor = LocalExecutor(parallelism=1, log_folder=tmp_path / "logs")
    try:
        executor.submit([item_for(path, "versions", "which")])
        first = collect(executor, 1)
        path.write_text(source.format("v2"))
        executor.submit([item_for(path, "versions", "which", try_number=2)])  # no hash: the cached DAG
        cached = collect(executor, 1)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        item = item_for(path, "versions", "which", try_number=3)
        executor.submit([WorkItem(key=item.key, context=item.context, dag_file=str(path), dag_file_hash=digest)])
        fresh = collect(executor, 1)
    finally:
        executor.stop()
    assert [r[0].return_value for r in (first, cached, fresh)] == ["v1", "v1", "v2"]


@pytest.mark.slow
@pytest.mark.parametrize("wait", [True, False])
def test_stop_lets_the_running_task_finish_or_terminates_it(tmp_path: Path, wait: bool) -> None:
    path, logs = marker_dags(tmp_path), tmp_path / "logs"
    executor = LocalExecutor(parallelism=1, log_folder=logs)
    queued = item_for(path, "pool", "slow", map_index=1)
    executor.submit([item_for(path, "pool", "slow"), queued])
    wait_for_file(tmp_path / "started")
    executor.stop(wait=wait)
    time.sleep(0 if wait else 1.5)  # a terminated task must not finish later
    assert (tmp_path / "done").exists() is wait
    assert not task_log_path(queued, logs).exists()  # a queued item never starts
