"""A try its run has ended (``dagrun_timeout``, ``fail_fast``) is killed, as Airflow kills it:
the local executor ends the worker's process group (the task's child processes too), replaces
the worker and runs what was queued behind it; a killed try not yet started never starts. Under
the scheduler the run then ends at once instead of when the try would have finished."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
from tests.executors.test_local import collect, item_for, marker_dags, wait_for_file, warm_up
from tests.scheduler.test_scenarios_both_drivers import Scenario, run_scheduler, write_scenario

from tradewind.definitions.states import TaskInstanceState as S
from tradewind.executors.inline import InlineExecutor
from tradewind.executors.local import LocalExecutor, task_log_path

pytestmark = pytest.mark.slow


def test_a_running_try_is_killed_and_the_items_behind_it_still_run(tmp_path: Path) -> None:
    path = marker_dags(tmp_path)
    executor = LocalExecutor(parallelism=1, log_folder=tmp_path / "logs")
    try:
        warm_up(executor, path)  # several items per worker: two quick ones wait behind the sleeper
        items = [item_for(path, "pool", t, map_index=i) for i, t in enumerate(("sleeper", "quick", "quick"))]
        executor.submit(items)
        wait_for_file(tmp_path / "pid")
        started = time.monotonic()
        executor.kill([items[0].key], "the run timed out")
        results = {r.key.map_index: r for r in collect(executor, 3)}
    finally:
        executor.stop()
    killed = results[0]
    assert time.monotonic() - started < 10  # not the sleeper's 60 s
    assert (killed.state, killed.retryable, killed.error and killed.error.type) == (S.FAILED, False, "TaskKilled")
    assert killed.error and killed.error.message == "the run timed out"
    assert (
        task_log_path(items[0], tmp_path / "logs")
        .read_text()
        .splitlines()[-1]
        .endswith("ERROR - Killed: the run timed out")
    )
    assert [(results[i].state, results[i].return_value) for i in (1, 2)] == [(S.SUCCESS, "quick")] * 2


def test_a_killed_try_that_has_not_started_never_starts(tmp_path: Path) -> None:
    path = marker_dags(tmp_path)
    executor = LocalExecutor(parallelism=1, log_folder=tmp_path / "logs")
    try:
        warm_up(executor, path)
        slow, queued = item_for(path, "pool", "slow"), item_for(path, "pool", "quick", map_index=7)
        executor.submit([slow, queued])  # both sent to the only worker: `quick` waits behind `slow`
        wait_for_file(tmp_path / "started")
        executor.kill([queued.key], "fail_fast")
        results = {r.key.task_id: r for r in collect(executor, 2)}
    finally:
        executor.stop()
    assert results["slow"].state is S.SUCCESS  # the running try that was not killed ends as usual
    dropped = results["quick"]
    assert (dropped.state, dropped.error and dropped.error.message) == (S.FAILED, "not started: fail_fast")
    assert not task_log_path(queued, tmp_path / "logs").exists()


def test_the_inline_executor_drops_what_has_not_started(tmp_path: Path) -> None:
    path = marker_dags(tmp_path)
    executor = InlineExecutor(lambda item: pytest.fail("nothing runs"), log=None)  # type: ignore[arg-type]
    item = item_for(path, "pool", "quick")
    executor.submit([item])
    executor.kill([item.key], "the run timed out")
    [result] = executor.next_results()
    assert (result.state, result.error and result.error.message) == (S.FAILED, "not started: the run timed out")


BODY = """
    import subprocess, sys
    from datetime import timedelta

    @dag(start_date=datetime(2025, 1, 1), schedule=None, {arguments})
    def {name}():
        @task(priority_weight=10)
        def boom():
            wait_for("slow-started")
            raise ValueError("no")

        @task
        def slow():
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
            (SCRATCH / "child").write_text(str(child.pid))
            (SCRATCH / "slow-started").touch()
            time.sleep(30)
            (SCRATCH / "slow-finished").touch()

        {calls}

    def wait_for(name):
        for _ in range(300):
            if (SCRATCH / name).exists():
                return
            time.sleep(0.05)

    {name}()
"""


def scenario(name: str, arguments: str, calls: str, states: dict[tuple[str, int], str], run_state: str) -> Scenario:
    return Scenario(name, textwrap.dedent(BODY.format(name=name, arguments=arguments, calls=calls)), states, run_state)


TIMED_OUT = scenario(
    "killed_by_timeout", "dagrun_timeout=timedelta(seconds=4)", "slow()", {("slow", -1): "skipped"}, "failed"
)
FAIL_FAST = scenario(
    "killed_by_fail_fast",
    "fail_fast=True",
    "boom()\n        slow()",
    {("boom", -1): "failed", ("slow", -1): "failed"},
    "failed",
)


def running(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"  # a zombie has ended


@pytest.mark.parametrize(
    ("case", "why"),
    [
        (TIMED_OUT, "the run timed out (dagrun_timeout 0:00:04); the instance was set to skipped"),
        (FAIL_FAST, "task 'boom' failed and the DAG has fail_fast; the instance was set to failed"),
    ],
    ids=["dagrun_timeout", "fail_fast"],
)
def test_the_scheduler_kills_the_try_its_run_ended(
    case: Scenario, why: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dags = write_scenario(tmp_path, case, monkeypatch)
    started = time.monotonic()
    outcome = run_scheduler(dags, case, monkeypatch)
    took = time.monotonic() - started
    states = {key: str(r.state) for key, r in outcome.records.items()}
    assert (states, outcome.run_state) == (case.states, case.run_state)
    assert took < 15, f"the run ended after {took:.1f}s: its try was not killed"
    scratch = tmp_path / "scratch"
    assert not (scratch / "slow-finished").exists()
    child = int((scratch / "child").read_text())
    deadline = time.monotonic() + 5
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(child), "the task's child process outlived the kill"
    [log] = (tmp_path / "home" / "logs").rglob("task_id=slow/map_index=-1/attempt=1.log")
    assert log.read_text().splitlines()[-1].endswith(f"ERROR - Killed: {why}")
