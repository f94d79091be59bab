"""A store that refuses writes (its SQLite file on a full disk): the scheduler says so once,
sends no work while it lasts, loses nothing, and finishes the run once there is room again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from faultkit import Install, fill, mounted_tmpfs

pytestmark = pytest.mark.slow


@pytest.fixture
def store_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MB tmpfs for the SQLite file (its WAL grows past the 4 MB of small_disk while the
    run's writes wait for a checkpoint); skipped where it cannot be mounted."""
    with mounted_tmpfs(tmp_path / "store", "64m") as mount_point:
        yield mount_point


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_full_store_pauses_the_scheduler_once_and_loses_nothing(install: Install, store_disk: Path) -> None:
    width = 300
    url = f"sqlite:///{store_disk / 'tradewind.db'}"
    install.url = url
    install.vars.update(
        TRADEWIND__DATABASE__URL=url,
        TRADEWIND__SCHEDULER__FAULT_PAUSE_SECONDS="1",
        TRADEWIND__SCHEDULER__FAULT_PAUSE_MAX_SECONDS="4",
        FAULT_WIDTH=str(width),
        FAULT_NAP="0.03",
    )
    run_id = install.trigger()
    scheduler = install.scheduler("--exit-when-idle", "--parallelism", "4")
    install.wait_for_lines("end", 30, scheduler)
    filler = fill(store_disk)
    install.wait_for_text("cannot write to the store", scheduler)
    time.sleep(1.5)  # what was running has ended; nothing new may start
    started = len(install.lines("start"))
    time.sleep(3)
    assert scheduler.poll() is None, install.err_of(scheduler)
    assert len(install.lines("start")) == started, "work was sent while the store refused writes"
    assert len(install.lines("end")) < width, "the run finished before the store was full: nothing was tested"

    filler.unlink()
    scheduler.wait(timeout=120)
    err = install.err_of(scheduler)
    assert scheduler.returncode == 0, err
    assert install.run_state(run_id) == "success", err
    figures = install.figures("full store", [run_id], kills=0, width=width)
    assert (figures.double_runs, figures.false_successes, figures.lost_runs) == (0, 0, 0), figures.notes
    rows = [r for r in install.states(run_id) if r["task_id"] == "work"]
    assert len(rows) == width and all(r["state"] == "success" and r["try_number"] == 1 for r in rows), rows
    starts = sorted(int(index) for _, index, _, _ in install.lines("start"))
    assert starts == list(range(width)), "an instance ran twice, or not at all"
    assert err.count("cannot write to the store: ") == 1, err
    assert "cannot write to the store: database or disk is full; retrying in 1 s" in err, err
    assert "the store can be written again" in err, err
    assert "Traceback" not in err, err
