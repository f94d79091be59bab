"""The fault-injection suite's tools (its fixtures: conftest.py): installations on SQLite or
PostgreSQL, a DAG whose tasks keep a journal, kill -9 of process trees, small filesystems, and the figures each
scenario prints (kills survived, double runs, false successes, lost runs).

A journal line ``start|end INDEX TRY PID`` is written by the task itself, so the journal, not
the store, says what really ran. Double runs: instances whose code completed, with its
success recorded in that try's log, and then ran again. False successes: instances the store
records as ``success`` whose code never completed. Lost runs: runs that did not end in success.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tradewind.runtime.durable import MARKER
from tradewind.runtime.logs import path_component

TRADEWIND = str(Path(sys.executable).with_name("tradewind"))

MAPPED_DAG = """
    import os, time
    from datetime import datetime
    from pathlib import Path
    from tradewind import dag, task

    JOURNAL = Path(os.environ["FAULT_JOURNAL"])
    WIDTH = int(os.environ.get("FAULT_WIDTH", "200"))
    NAP = float(os.environ.get("FAULT_NAP", "0.05"))

    def note(what):
        with JOURNAL.open("a") as journal:
            journal.write(what + "\\n")

    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def faults():
        @task
        def items():
            return list(range(WIDTH))

        @task(retries=5, retry_delay=0)
        def work(i, ti=None):
            note(f"start {i} {ti.try_number} {os.getpid()}")
            time.sleep(NAP)
            note(f"end {i} {ti.try_number} {os.getpid()}")
            return i

        @task
        def total(values):
            return sum(values)

        total(work.expand(i=items()))

    faults()
"""

FINAL = {"success", "failed", "skipped", "upstream_failed", "removed"}


@dataclass
class Figures:
    """What one scenario survived and what went wrong (printed on one line)."""

    scenario: str
    kills: int = 0
    double_runs: int = 0
    false_successes: int = 0
    lost_runs: int = 0
    rerun_unrecorded: int = 0  # completed, killed before its outcome was durable, ran again (allowed)
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"FAULTS {self.scenario}: kills survived {self.kills}, double runs {self.double_runs}, "
            f"false successes {self.false_successes}, lost runs {self.lost_runs}, "
            f"completed-but-unrecorded tries run again {self.rerun_unrecorded}"
        )


@dataclass
class Install:
    """One tradewind installation: home, DAGs folder, journal, database URL and environment."""

    home: Path
    dags: Path
    journal: Path
    url: str
    vars: dict[str, str]
    processes: list[subprocess.Popen[str]] = field(default_factory=list)
    errs: dict[int, Path] = field(default_factory=dict)

    def cli(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([TRADEWIND, *args], env=self.vars, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(
                f"tradewind {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        return done

    def trigger(self, dag_id: str = "faults") -> str:
        return str(json.loads(self.cli("dags", "trigger", dag_id, "-o", "json").stdout)["run_id"])

    def states(self, run_id: str, dag_id: str = "faults") -> list[dict[str, Any]]:
        return list(json.loads(self.cli("tasks", "states-for-dag-run", dag_id, run_id, "-o", "json").stdout))

    def run_state(self, run_id: str, dag_id: str = "faults") -> str | None:
        runs = json.loads(self.cli("dags", "list-runs", dag_id, "-o", "json").stdout)
        return next((r["state"] for r in runs if r["run_id"] == run_id), None)

    def scheduler(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """Start ``tradewind scheduler ARGS`` in its own session; its stderr goes to a file
        (``err_of(process)``)."""
        err = self.home.parent / f"scheduler-{len(self.processes)}.err"
        with err.open("w") as sink:
            process = subprocess.Popen(
                [TRADEWIND, "scheduler", *args],
                env={**self.vars, **(env or {})},
                stdout=subprocess.DEVNULL,
                stderr=sink,
                text=True,
                start_new_session=True,
            )
        self.processes.append(process)
        self.errs[process.pid] = err
        return process

    def err_of(self, process: subprocess.Popen[str]) -> str:
        return self.errs[process.pid].read_text(errors="replace")

    def lines(self, kind: str | None = None) -> list[list[str]]:
        if not self.journal.exists():
            return []
        rows = [line.split() for line in self.journal.read_text().splitlines() if line.strip()]
        return [r for r in rows if len(r) == 4 and (kind is None or r[0] == kind)]

    def wait_for_text(self, text: str, process: subprocess.Popen[str], timeout: float = 30) -> None:
        """Wait until the scheduler's stderr says ``text``; fail, with its stderr, if it ends first."""
        deadline = time.monotonic() + timeout
        while text not in self.err_of(process):
            assert time.monotonic() < deadline, self.err_of(process)
            assert process.poll() is None, self.err_of(process)
            time.sleep(0.05)

    def wait_for_lines(
        self, kind: str, count: int, process: subprocess.Popen[str] | None = None, timeout: float = 60
    ) -> None:
        """Wait for ``count`` journal lines of ``kind``; fail at once, with its stderr, if
        ``process`` (the scheduler) ends meanwhile."""
        deadline = time.monotonic() + timeout
        while len(self.lines(kind)) < count:
            if process is not None and process.poll() is not None:
                raise AssertionError(f"the scheduler ended ({process.returncode}) early:\n{self.err_of(process)}")
            if time.monotonic() > deadline:
                found = len(self.lines(kind))
                err = self.err_of(process) if process is not None else ""
                raise AssertionError(f"{found} of {count} '{kind}' journal lines after {timeout:g}s\n{err}")
            time.sleep(0.01)

    def log_of(self, run_id: str, task_id: str, map_index: int, try_number: int) -> Path:
        return (
            self.home
            / "logs"
            / path_component("dag_id", "faults")
            / path_component("run_id", run_id)
            / path_component("task_id", task_id)
            / f"map_index={map_index}"
            / f"attempt={try_number}.log"
        )

    def figures(self, scenario: str, run_ids: list[str], kills: int, width: int) -> Figures:
        """Count double runs, false successes and lost runs of these runs from the journal, the
        store and the logs; print them on one line."""
        figures = Figures(scenario, kills=kills)
        ends: dict[int, list[int]] = defaultdict(list)
        for _, index, try_number, _ in self.lines("end"):
            ends[int(index)].append(int(try_number))
        for run_id in run_ids:  # one run per journal in this suite
            if self.run_state(run_id) != "success":
                figures.lost_runs += 1
            rows = self.states(run_id)
            work = {r["map_index"]: r for r in rows if r["task_id"] == "work"}
            if len(work) != width:
                figures.notes.append(f"{run_id}: {len(work)} work instances, expected {width}")
                figures.lost_runs += 1
            for index, row in work.items():
                if row["state"] != "success":
                    figures.notes.append(f"work[{index}] is {row['state']}")
                    continue
                if row["try_number"] not in ends.get(index, []):
                    figures.false_successes += 1
                    figures.notes.append(f"work[{index}] success on try {row['try_number']}, its code never ended")
            for index, tries in ends.items():
                for try_number in sorted(tries)[:-1]:
                    log = self.log_of(run_id, "work", index, try_number)
                    recorded = log.exists() and _success_recorded(log)
                    if recorded:
                        figures.double_runs += 1
                        figures.notes.append(f"work[{index}] ran again after try {try_number} succeeded")
                    else:
                        figures.rerun_unrecorded += 1
        print(figures.line())
        for note in figures.notes[:20]:
            print(f"  {note}")
        return figures


def _success_recorded(log: Path) -> bool:
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith(MARKER) and '"state": "success"' in line:
            return True
    return False


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc), children first found first."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children[parent].append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(process: subprocess.Popen[str]) -> None:
    """kill -9 of a scheduler and of every process it started (workers lead their own process
    groups, so killing its group alone would leave them running)."""
    tree = descendants(process.pid)
    for pid in [process.pid, *tree]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=30)
    for pid in tree:
        wait_gone(pid)


def wait_gone(pid: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return
        except OSError:
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} still runs {timeout:g}s after it was killed")


def fill(folder: Path) -> Path:
    """Fill the filesystem of ``folder`` to the last byte with one file; returns its path."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError:
                    break
    finally:
        os.close(fd)
    return filler


@contextmanager
def mounted_tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (e.g. "4m") at ``mount_point``, unmounted afterwards; the test is
    skipped where it cannot be mounted."""
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem to fill needs root (mount -t tmpfs)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (mount says: {done.stderr.strip()}); needs CAP_SYS_ADMIN")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)
