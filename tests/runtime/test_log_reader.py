"""Reading a try's log back, as ``tasks logs``, the API and the UI show it: the outcome line the
worker appends is never shown, a follower sees every line once, and no id reaches outside the
logs folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.runtime.durable import MARKER, result_line
from tradewind.runtime.logs import (
    TaskLogNotFound,
    log_relative_path,
    read_task_log,
    task_log_file,
    task_log_finished,
    task_log_tries,
)
from tradewind.runtime.work import TaskResult

DAY = datetime(2025, 1, 1, tzinfo=UTC)
LINES = "[2025-01-01T00:00:00.000Z] {add} INFO - hello\n[2025-01-01T00:00:00.001Z] {add} INFO - wörld\n"


def write_log(folder: Path, key: TaskInstanceKey, text: str) -> Path:
    path = folder / log_relative_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


def outcome(key: TaskInstanceKey) -> str:
    return result_line(TaskResult(key=key, state=S.SUCCESS, started_at=DAY, ended_at=DAY, return_value={"n": 1}))


def test_the_outcome_line_is_hidden_and_the_offset_reaches_the_end(tmp_path: Path) -> None:
    key = TaskInstanceKey("etl", "manual__1", "add", 3, 1)
    path = write_log(tmp_path, key, LINES + outcome(key))
    text, offset = read_task_log(tmp_path, "etl", "manual__1", "add", 3, 1)
    assert text == LINES
    assert MARKER not in text
    assert offset == path.stat().st_size
    assert read_task_log(tmp_path, "etl", "manual__1", "add", 3, 1, offset=offset) == ("", offset)
    assert task_log_finished(tmp_path, "etl", "manual__1", "add", 3, 1)


def test_a_follower_sees_each_line_once_and_never_a_piece_of_the_outcome(tmp_path: Path) -> None:
    key = TaskInstanceKey("etl", "manual__1", "add", -1, 2)
    whole = LINES + "[2025-01-01T00:00:01.000Z] {add} INFO - done\n" + outcome(key)
    data = whole.encode()
    path = tmp_path / log_relative_path(key)
    path.parent.mkdir(parents=True)
    seen, offset = [], 0
    for size in range(0, len(data) + 1, 7):  # the worker's buffer reaches the disk 7 bytes at a time
        path.write_bytes(data[:size])
        text, offset = read_task_log(tmp_path, "etl", "manual__1", "add", -1, 2, offset=offset)
        seen.append(text)
        assert not task_log_finished(tmp_path, "etl", "manual__1", "add", -1, 2) or size >= len(data) - 1
    path.write_bytes(data)
    text, offset = read_task_log(tmp_path, "etl", "manual__1", "add", -1, 2, offset=offset)
    seen.append(text)
    assert "".join(seen) == whole[: whole.index(MARKER)]
    assert offset == len(data)


def test_small_reads_join_up_to_the_whole_log(tmp_path: Path) -> None:
    key = TaskInstanceKey("etl", "r", "add", -1, 1)
    write_log(tmp_path, key, LINES + outcome(key))
    pieces, offset = [], 0
    for _ in range(100):
        text, offset = read_task_log(tmp_path, "etl", "r", "add", -1, 1, offset=offset, max_bytes=5)
        pieces.append(text)
    assert "".join(pieces) == LINES


def test_a_log_without_an_outcome_shows_its_unfinished_last_line(tmp_path: Path) -> None:
    key = TaskInstanceKey("etl", "r", "add", -1, 1)
    write_log(tmp_path, key, LINES + "[2025-01-01T00:00:02.000Z] {add} INFO - half a li")
    text, _ = read_task_log(tmp_path, "etl", "r", "add")
    assert text.endswith("half a li")
    assert not task_log_finished(tmp_path, "etl", "r", "add", -1, 1)


def test_a_line_the_task_printed_that_looks_like_the_marker_is_shown(tmp_path: Path) -> None:
    key = TaskInstanceKey("etl", "r", "add", -1, 1)
    printed = f"[2025-01-01T00:00:00.000Z] {{add}} INFO - {MARKER}{{}}\n"
    write_log(tmp_path, key, printed + outcome(key))
    assert read_task_log(tmp_path, "etl", "r", "add")[0] == printed


def test_tries_with_logs_and_the_error_for_a_missing_try(tmp_path: Path) -> None:
    for tries in (1, 2, 10):
        write_log(tmp_path, TaskInstanceKey("etl", "r", "add", 0, tries), LINES)
    (tmp_path / log_relative_path(TaskInstanceKey("etl", "r", "add", 0, 1))).with_name("attempt=x.log").write_text("")
    assert task_log_tries(tmp_path, "etl", "r", "add", 0) == [1, 2, 10]
    assert task_log_tries(tmp_path, "etl", "r", "add", 5) == []
    with pytest.raises(
        TaskLogNotFound, match=r"No log for try 3 of add\[0\] in run 'r' of 'etl': logs exist for tries 1, 2, 10"
    ):
        read_task_log(tmp_path, "etl", "r", "add", 0, 3)
    with pytest.raises(TaskLogNotFound, match="no try of it has a log yet"):
        read_task_log(tmp_path, "etl", "r", "nope")


@pytest.mark.parametrize(
    "ids",
    [
        ("..", "..", ".."),
        ("../../etc", "passwd", "x"),
        ("/etc", "/etc/passwd", "/"),
        ("etl/../../..", "r\\..\\..", "a/b"),
        ("%2E%2E", "~", "."),
    ],
)
def test_no_id_reaches_outside_the_logs_folder(tmp_path: Path, ids: tuple[str, str, str]) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (tmp_path / "secret.log").write_text("secret\n")
    dag_id, run_id, task_id = ids
    path = task_log_file(logs, dag_id, run_id, task_id, -1, 1)
    assert path.resolve().is_relative_to(logs.resolve())
    assert len(path.relative_to(logs).parts) == 5
    with pytest.raises(TaskLogNotFound):
        read_task_log(logs, dag_id, run_id, task_id)
    write_log(logs, TaskInstanceKey(dag_id, run_id, task_id, -1, 1), "mine\n")
    assert read_task_log(logs, dag_id, run_id, task_id) == ("mine\n", 5)
    assert task_log_tries(logs, dag_id, run_id, task_id) == [1]
