"""The store commands never import a DAG file: once the DAG processor has stored a DAG,
``dags trigger / pause / unpause / list-runs``, ``tasks states-for-dag-run / clear`` and the
scheduler itself work from the serialized version. Only the processor's child (when the file
changed) and the workers (at most once per worker process and file version) import it.

The DAG file appends "<pid>" to a marker file every time it is imported, so the test counts imports.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

TASKS = 10

DAG_FILE = f"""
    import os
    from datetime import datetime

    from tradewind import dag, task

    with open(os.environ["TW_IMPORT_MARKER"], "a") as marker:
        marker.write(f"{{os.getpid()}}\\n")


    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def imported_rarely():
        @task
        def work(n):
            return n

        for n in range({TASKS}):
            work.override(task_id=f"work_{{n}}")(n)


    imported_rarely()
"""


def describe(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"


def test_store_commands_import_nothing_and_workers_import_once_each(
    run_cli: Callable[..., subprocess.CompletedProcess[str]],
    dags_folder: Path,
    write_dag: Callable[[Path, str, str], Path],
    tmp_path: Path,
) -> None:
    marker = tmp_path / "imports.txt"
    write_dag(dags_folder, "imported_rarely.py", DAG_FILE)
    env = {"TRADEWIND__CORE__DAGS_FOLDER": str(dags_folder), "TW_IMPORT_MARKER": str(marker)}

    def tradewind(*args: Any) -> subprocess.CompletedProcess[str]:
        done = run_cli(*args, env=env)
        assert done.returncode == 0, f"tradewind {' '.join(map(str, args))}: {describe(done)}"
        return done

    def imports() -> list[str]:
        return marker.read_text().split() if marker.exists() else []

    stored = tradewind("dag-processor", "--once")
    assert "1 file(s) imported" in stored.stdout, describe(stored)
    assert len(imports()) == 1  # the processor's child
    processor_pid = imports()[0]

    run_id = json.loads(tradewind("dags", "trigger", "imported_rarely", "-o", "json").stdout)["run_id"]
    tradewind("dags", "pause", "imported_rarely")
    tradewind("dags", "unpause", "imported_rarely")
    runs = json.loads(tradewind("dags", "list-runs", "imported_rarely", "-o", "json").stdout)
    assert [(r["run_id"], r["state"], r["dag_version"]) for r in runs] == [(run_id, "queued", 1)]
    assert json.loads(tradewind("tasks", "states-for-dag-run", "imported_rarely", run_id, "-o", "json").stdout) == []
    assert "Nothing to clear" in tradewind("tasks", "clear", "imported_rarely", "--yes").stdout
    assert imports() == [processor_pid], "a store command imported the DAG file"

    tradewind("scheduler", "--exit-when-idle", "--parallelism", "2")

    runs = json.loads(tradewind("dags", "list-runs", "imported_rarely", "-o", "json").stdout)
    assert [(r["run_id"], r["state"]) for r in runs] == [(run_id, "success")]
    states = json.loads(tradewind("tasks", "states-for-dag-run", "imported_rarely", run_id, "-o", "json").stdout)
    assert [(r["task_id"], r["state"]) for r in states] == [(f"work_{n}", "success") for n in range(TASKS)]
    by_workers = imports()[1:]
    assert processor_pid not in by_workers
    # the scheduler's own processor found the file unchanged; each of the 2 workers imported it at most once
    assert 1 <= len(by_workers) <= 2, by_workers
    assert max(Counter(by_workers).values()) == 1, by_workers

    cleared = tradewind("tasks", "clear", "imported_rarely", "--yes")
    assert f"Cleared {TASKS} task instance" in cleared.stdout, describe(cleared)
    assert imports()[1:] == by_workers, "tasks clear imported the DAG file"
    states = json.loads(tradewind("tasks", "states-for-dag-run", "imported_rarely", run_id, "-o", "json").stdout)
    assert {r["state"] for r in states} == {None}
    assert imports()[1:] == by_workers
