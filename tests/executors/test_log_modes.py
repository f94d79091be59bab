"""Task logs can hold secrets a task printed: the local executor creates them 0600 in folders
0700, unless ``[logging] file_mode`` / ``folder_mode`` open them to a group of log readers."""

from __future__ import annotations

import os
import stat
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from tradewind.config import conf
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.errors import ConfigError
from tradewind.executors.local import LocalExecutor, task_log_path
from tradewind.runtime.work import RunContext, TaskResult, WorkItem

DAY = datetime(2025, 1, 1)
DAG_FILE = """
    from datetime import datetime
    from tradewind import DAG, task

    with DAG("modes", start_date=datetime(2025, 1, 1), schedule=None):
        task(lambda: print("a secret") or 1, task_id="talk")()
"""


def current_umask() -> int:
    value = os.umask(0o022)
    os.umask(value)
    return value


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run_one_task(tmp_path: Path, dag_file: str | None = None) -> Path:
    """Run the task through a LocalExecutor; returns its log file."""
    path = tmp_path / "modes.py"
    path.write_text(textwrap.dedent(DAG_FILE))
    context = RunContext("modes", "manual__1", DAY, DAY, DAY)
    item = WorkItem(key=TaskInstanceKey("modes", "manual__1", "talk"), context=context, dag_file=dag_file or str(path))
    logs = tmp_path / "home" / "logs"
    executor = LocalExecutor(parallelism=1, log_folder=logs)
    try:
        executor.submit([item])
        results: list[TaskResult] = []
        while not results:
            results = executor.next_results(timeout=30)
    finally:
        executor.stop()
    assert [r.state for r in results] == ["success"], results
    log = task_log_path(item, logs)
    assert "a secret" in log.read_text()
    return log


def folders_between(log: Path, top: Path) -> list[Path]:
    return [folder for folder in log.parents if folder == top or top in folder.parents]


def test_logs_are_private_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRADEWIND__LOGGING__FILE_MODE", raising=False)
    monkeypatch.delenv("TRADEWIND__LOGGING__FOLDER_MODE", raising=False)
    log = run_one_task(tmp_path)
    assert mode(log) == 0o600
    folders = folders_between(log, tmp_path / "home")  # map_index=… up to the home made for the logs
    assert len(folders) == 6 and {mode(folder) for folder in folders} == {0o700}


def test_log_modes_can_be_opened_to_a_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND__LOGGING__FILE_MODE", "0640")
    monkeypatch.setenv("TRADEWIND__LOGGING__FOLDER_MODE", "750")
    log = run_one_task(tmp_path)
    umask = current_umask()  # the workers' too: they inherit it
    assert mode(log) == 0o640 & ~umask
    assert {mode(folder) for folder in folders_between(log, tmp_path / "home")} == {0o750 & ~umask}


def test_a_worker_that_dies_notes_it_in_a_private_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The executor's own note about a dead worker creates the log the same way."""
    monkeypatch.delenv("TRADEWIND__LOGGING__FILE_MODE", raising=False)
    executor = LocalExecutor(parallelism=1, log_folder=tmp_path / "logs")
    context = RunContext("modes", "manual__1", DAY, DAY, DAY)
    item = WorkItem(key=TaskInstanceKey("modes", "manual__1", "talk"), context=context)
    executor._note_in_task_log(item, "worker process 1 died")
    log = task_log_path(item, tmp_path / "logs")
    assert "worker process 1 died" in log.read_text() and mode(log) == 0o600
    assert mode(log.parent) == 0o700


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [("file_mode", "0640", 0o640), ("file_mode", "0o600", 0o600), ("folder_mode", "0755", 0o755)],
)
def test_modes_are_read_in_octal(monkeypatch: pytest.MonkeyPatch, key: str, value: str, expected: int) -> None:
    monkeypatch.setenv(f"TRADEWIND__LOGGING__{key.upper()}", value)
    assert conf.log_modes()[key == "folder_mode"] == expected


def test_modes_in_tradewind_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path))
    monkeypatch.delenv("TRADEWIND__LOGGING__FILE_MODE", raising=False)
    monkeypatch.delenv("TRADEWIND__LOGGING__FOLDER_MODE", raising=False)
    (tmp_path / "tradewind.toml").write_text('[logging]\nfile_mode = 0o640\nfolder_mode = "0750"\n')
    assert conf.log_modes() == (0o640, 0o750)


@pytest.mark.parametrize(
    ("key", "value"),
    [("file_mode", "0400"), ("file_mode", "rw-r-----"), ("file_mode", "0o1777"), ("folder_mode", "0600")],
)
def test_a_mode_tradewind_could_not_use_is_refused(monkeypatch: pytest.MonkeyPatch, key: str, value: str) -> None:
    monkeypatch.setenv(f"TRADEWIND__LOGGING__{key.upper()}", value)
    with pytest.raises(ConfigError, match=f"\\[logging\\] {key} must be an octal permission mode"):
        LocalExecutor(parallelism=1)
