"""kill -9 of the scheduler and of workers during a 200-way map, a second scheduler on the same
database, and a deleted SQLite WAL after a crash — on SQLite and PostgreSQL. Each scenario ends
with every run finished, no try whose success was recorded run again, no success recorded for
code that never completed, and prints its figures (faultkit.Figures)."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
from faultkit import TRADEWIND, Install, descendants, kill_tree, wait_gone

pytestmark = pytest.mark.slow

WIDTH = 200
SETTINGS = {"FAULT_WIDTH": str(WIDTH), "FAULT_NAP": "0.08"}


def finish(install: Install, timeout: float = 120) -> None:
    """Run a scheduler until no run is left, and check it exited cleanly."""
    last = install.scheduler("--exit-when-idle", "--parallelism", "4")
    last.wait(timeout=timeout)
    assert last.returncode == 0, install.err_of(last)


def check(install: Install, scenario: str, run_id: str, kills: int) -> None:
    figures = install.figures(scenario, [run_id], kills=kills, width=WIDTH)
    assert (figures.double_runs, figures.false_successes, figures.lost_runs) == (0, 0, 0), figures.notes
    assert install.run_state(run_id) == "success"


def test_kill_9_of_the_scheduler_during_a_mapped_run(install: Install, backend: str) -> None:
    install.vars.update(SETTINGS)
    run_id = install.trigger()
    kills = 0
    for threshold, whole_tree in ((30, True), (80, False), (130, True)):
        scheduler = install.scheduler("--parallelism", "4")
        install.wait_for_lines("end", threshold, scheduler)
        assert len(install.lines("end")) < WIDTH, "the run finished before the kill: nothing was tested"
        if whole_tree:
            kill_tree(scheduler)  # the scheduler and its workers, as a crash of the machine's processes
        else:
            orphans = descendants(scheduler.pid)
            scheduler.send_signal(signal.SIGKILL)  # the scheduler alone: workers finish their task, then exit
            scheduler.wait(timeout=30)
            for pid in orphans:
                wait_gone(pid, timeout=60)
        kills += 1
    finish(install)
    check(install, f"kill -9 of the scheduler ({backend})", run_id, kills)


def test_kill_9_of_workers_during_a_mapped_run(install: Install, backend: str) -> None:
    install.vars.update(SETTINGS)
    run_id = install.trigger()
    scheduler = install.scheduler("--exit-when-idle", "--parallelism", "4")
    kills = 0
    for threshold in (20, 50, 80, 110, 140):
        install.wait_for_lines("start", threshold, scheduler)
        ended = {(i, t) for _, i, t, _ in install.lines("end")}
        running = [(i, t, pid) for _, i, t, pid in install.lines("start") if (i, t) not in ended]
        assert running, "no task was running"
        _, _, pid = running[-1]
        try:
            os.kill(int(pid), signal.SIGKILL)  # the worker running that task, in the middle of it
        except ProcessLookupError:
            continue
        kills += 1
    scheduler.wait(timeout=120)
    assert scheduler.returncode == 0, install.err_of(scheduler)
    assert kills >= 3
    check(install, f"kill -9 of workers ({backend})", run_id, kills)


def test_a_second_scheduler_on_the_same_database_refuses_and_nothing_runs_twice(install: Install, backend: str) -> None:
    install.vars.update(SETTINGS)
    run_id = install.trigger()
    first = install.scheduler("--exit-when-idle", "--parallelism", "4")
    install.wait_for_lines("end", 20, first)
    other_home = install.home.parent / "other-home"  # another home: only the database is shared
    second = subprocess.run(
        [TRADEWIND, "scheduler", "--parallelism", "4"],
        env={**install.vars, "TRADEWIND_HOME": str(other_home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode == 1
    message = second.stderr.strip()
    assert "\n" not in message, message
    assert message.startswith(f"Error: another scheduler is running on this database: pid {first.pid} on host ")
    assert ", since " in message
    first.wait(timeout=120)
    assert first.returncode == 0, install.err_of(first)
    print(f"FAULTS second scheduler ({backend}): refused with: {message}")
    check(install, f"second scheduler on one database ({backend})", run_id, kills=0)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_deleted_wal_after_a_crash(install: Install) -> None:
    install.vars.update(SETTINGS)
    run_id = install.trigger()
    scheduler = install.scheduler("--parallelism", "4")
    install.wait_for_lines("end", 60, scheduler)
    assert len(install.lines("end")) < WIDTH, "the run finished before the kill: nothing was tested"
    kill_tree(scheduler)
    wal = install.home / "tradewind.db-wal"
    assert wal.exists() and wal.stat().st_size > 0, "no WAL to delete: nothing was tested"
    wal.unlink()
    (install.home / "tradewind.db-shm").unlink(missing_ok=True)
    finish(install)
    check(install, "deleted WAL after a crash (sqlite)", run_id, kills=1)
    # what the store forgot, the logs still knew: tries that had succeeded were not run again
    assert "is recorded above: it is not run again" in "".join(
        p.read_text(errors="replace") for p in (install.home / "logs").rglob("attempt=*.log")
    )


def test_summary_line_format() -> None:
    from faultkit import Figures

    assert Figures("x", kills=2).line() == (
        "FAULTS x: kills survived 2, double runs 0, false successes 0, lost runs 0, "
        "completed-but-unrecorded tries run again 0"
    )
