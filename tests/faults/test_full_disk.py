"""A full log disk: the fault is named once, no try is used, nothing succeeds falsely, and the
run completes once there is room again. Also the worker alone on a full and a read-only disk."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from faultkit import Install, fill

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.executors.local_worker import DagCache, WorkerSetup, run_one
from tradewind.runtime.work import RunContext, WorkItem

pytestmark = pytest.mark.slow

ONE_TASK = """
    from datetime import datetime
    from pathlib import Path
    from tradewind import dag, task

    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def one():
        @task
        def hello():
            Path(__file__).with_name("ran").write_text("ran")
            return 1

        hello()

    one()
"""


def _run_hello(tmp_path: Path, log_folder: Path) -> tuple[object, bool]:
    dags = tmp_path / "dags"
    dags.mkdir(exist_ok=True)
    (dags / "one.py").write_text(textwrap.dedent(ONE_TASK))
    now = datetime.now(UTC)
    item = WorkItem(
        TaskInstanceKey("one", "r1", "hello", -1, 1), RunContext("one", "r1", now, now, now), str(dags / "one.py")
    )
    result = run_one(item, DagCache(), WorkerSetup(str(log_folder), dict(os.environ), list(sys.path)))
    return result, (dags / "ran").exists()


def test_a_worker_whose_log_cannot_be_written_does_not_run_the_task(tmp_path: Path, small_disk: Path) -> None:
    fill(small_disk)
    result, ran = _run_hello(tmp_path, small_disk / "logs")
    assert not ran
    assert result.machine_fault and result.state == "failed"  # type: ignore[attr-defined]
    message = result.error.message  # type: ignore[attr-defined]
    assert message.startswith("cannot write the task log: No space left on device, path ")
    assert message.endswith("/dag_id=one/run_id=r1/task_id=hello/map_index=-1/attempt=1.log")

    (small_disk / "filler").unlink()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    result, ran = _run_hello(tmp_path, small_disk / "logs")
    assert not ran and result.machine_fault  # type: ignore[attr-defined]
    assert result.error.message.startswith("cannot write the task log: Read-only file system, path ")  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_full_log_disk_pauses_the_scheduler_once_and_uses_no_try(install: Install, small_disk: Path) -> None:
    width = 200
    install.vars.update(
        TRADEWIND__LOGGING__BASE_LOG_FOLDER=str(small_disk / "logs"),
        TRADEWIND__SCHEDULER__FAULT_PAUSE_SECONDS="1",
        TRADEWIND__SCHEDULER__FAULT_PAUSE_MAX_SECONDS="4",
        FAULT_WIDTH=str(width),
        FAULT_NAP="0.03",
    )
    run_id = install.trigger()
    scheduler = install.scheduler("--exit-when-idle", "--parallelism", "4")
    install.wait_for_lines("end", 30, scheduler)
    filler = fill(small_disk)
    install.wait_for_text("cannot write the task log", scheduler)
    time.sleep(3)  # paused: nothing may fail, no try may be used
    rows = [r for r in install.states(run_id) if r["task_id"] == "work"]
    assert not [r for r in rows if r["state"] in ("failed", "up_for_retry", "upstream_failed")], rows
    assert max(r["try_number"] for r in rows) <= 1
    ended = {int(index) for _, index, _, _ in install.lines("end")}
    assert {r["map_index"] for r in rows if r["state"] == "success"} <= ended
    assert len(ended) < width, "the run finished before the disk was full: nothing was tested"

    filler.unlink()
    scheduler.wait(timeout=120)
    err = install.err_of(scheduler)
    assert scheduler.returncode == 0, err
    figures = install.figures("full log disk", [run_id], kills=0, width=width)
    assert (figures.double_runs, figures.false_successes, figures.lost_runs) == (0, 0, 0), figures.notes
    assert all(r["try_number"] == 1 for r in install.states(run_id) if r["task_id"] == "work")
    assert err.count("cannot write the task log: No space left on device, path ") == 1, err
    assert "tasks are put back without using a try" in err
    assert "task logs can be written again" in err
    assert "lost sys.stderr" not in err and "died" not in err, err
