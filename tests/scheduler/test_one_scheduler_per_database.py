"""One active scheduler per database, as a user meets it: real ``tradewind scheduler``
processes with different homes on one SQLite file (PostgreSQL: tests/faults)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from tradewind.store import make_engine
from tradewind.store.lease import current
from tradewind.store.models import SchedulerLease

TRADEWIND = str(Path(sys.executable).with_name("tradewind"))

pytestmark = pytest.mark.slow


def env_for(home: Path, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env.update(TRADEWIND_HOME=str(home), TRADEWIND__DATABASE__URL=url, TRADEWIND__CORE__DAGS_FOLDER=str(home / "dags"))
    env.update(extra)
    return env


def start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [TRADEWIND, "scheduler", "--parallelism", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for_holder(url: str, pid: int, timeout: float = 30) -> None:
    engine = make_engine(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                holder = current(engine)
            except Exception:
                holder = None
            if holder is not None and holder.pid == pid:
                return
            time.sleep(0.05)
    finally:
        engine.dispose()
    raise AssertionError(f"scheduler {pid} did not take the lease within {timeout:g}s")


def stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    _, err = process.communicate(timeout=30)
    return err


def test_second_scheduler_on_the_database_exits_naming_the_holder_and_takes_over_once_it_is_killed(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = start(env_for(tmp_path / "one", url))
    try:
        wait_for_holder(url, first.pid)
        second = subprocess.run(
            [TRADEWIND, "scheduler"], env=env_for(tmp_path / "two", url), capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert lines[0].startswith(f"Error: another scheduler is running on this database: pid {first.pid} on host ")
        assert ", since " in lines[0]
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        # the holder's process is gone and it ran on this machine: no need to wait out the lease
        third = start(env_for(tmp_path / "two", url))
        try:
            wait_for_holder(url, third.pid, timeout=20)
        finally:
            err = stop(third)
        assert f"took over the scheduler lease of pid {first.pid}" in err and "its process is gone" in err
    finally:
        stop(first)


def test_a_scheduler_whose_lease_was_taken_stops_with_an_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    env = env_for(
        tmp_path / "one", url, TRADEWIND__SCHEDULER__LEASE_SECONDS="3", TRADEWIND__SCHEDULER__LEASE_RENEW_SECONDS="1"
    )
    scheduler = start(env)
    try:
        wait_for_holder(url, scheduler.pid)
        engine = make_engine(url)
        with engine.begin() as connection:  # what another scheduler does once the lease lapsed
            connection.execute(
                update(SchedulerLease).values(holder_token="someone-else", hostname="elsewhere", pid=4242)
            )
        engine.dispose()
        _, err = scheduler.communicate(timeout=30)
    finally:
        stop(scheduler) if scheduler.poll() is None else None
    assert scheduler.returncode == 1, err
    assert "Error: another scheduler took over this database's lease (pid 4242 on host elsewhere" in err
