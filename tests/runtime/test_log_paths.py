"""Where each try's log lives and the outcome at its end: two different tries never share a log
file on any filesystem, and an outcome is only read back for the try it names."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.executors.local import task_log_path
from tradewind.executors.local_worker import log_file_path, open_log
from tradewind.runtime.durable import MARKER, result_from_log, result_line
from tradewind.runtime.logs import MAX_COMPONENT_BYTES, log_relative_path, path_component
from tradewind.runtime.work import RunContext, TaskResult, WorkItem

DAY = datetime(2025, 1, 1, tzinfo=UTC)


def key(
    run_id: str = "manual__1", dag_id: str = "etl", task_id: str = "load", map_index: int = -1, tries: int = 1
) -> TaskInstanceKey:
    return TaskInstanceKey(dag_id, run_id, task_id, map_index, tries)


def outcome(for_key: TaskInstanceKey, value: object = "ran") -> TaskResult:
    return TaskResult(key=for_key, state=S.SUCCESS, started_at=DAY, ended_at=DAY, return_value=value)


def folded(path: str) -> str:
    """What a case-insensitive, normalising filesystem (APFS, HFS+, NTFS, SMB) compares."""
    return unicodedata.normalize("NFC", path).casefold()


NFC = unicodedata.normalize("NFC", "café")
NFD = unicodedata.normalize("NFD", "café")
NEAR_COLLISIONS = [
    "col/1",
    "col%2F1",
    "col%2f1",
    "col_1",
    "col%1",
    "col%%2F1",
    "A",
    "a",
    "%41",
    "%61",
    NFC,
    NFD,
    "run.",
    "run",
    "run%2E",
    "run ",
    "run\n",
    "run\x00",
    "run\t",
    "run:1",
    "run%3A1",
    "c:\\x",
    "..",
    ".",
    "",
    "x" * 300,
    "x" * 301,
    "x" * 300 + "A",
    "x" * 300 + "a",
    "é" * 200,
    "é" * 201,
    "x~" + "0" * 32,
    "\ud800",  # a lone surrogate: not valid UTF-8, still an id Python can hold
]


def test_ordinary_ids_keep_the_readable_shape() -> None:
    assert log_relative_path(key("scheduled__2025-01-01", "mapped_example_dag", "process", 2, 3)) == (
        "dag_id=mapped_example_dag/run_id=scheduled__2025-01-01/task_id=process/map_index=2/attempt=3.log"
    )
    context = RunContext("etl", "manual__1", DAY, DAY, DAY)
    item = WorkItem(key=key(task_id="group.load"), context=context)
    expected = Path("/logs/dag_id=etl/run_id=manual__1/task_id=group.load/map_index=-1/attempt=1.log")
    assert task_log_path(item, Path("/logs")) == expected


def test_unsafe_characters_are_percent_encoded_and_decode_back() -> None:
    run_id = "manual__2025-01-01T00:00:00+00:00"
    assert path_component("run_id", run_id) == "run_id=manual__2025-01-01%5400%3A00%3A00+00%3A00"
    for value in ("col/1", "col%2F1", "Ünïcode ✓", "tab\there", "a:b*c?d", "trailing."):
        name = path_component("run_id", value)
        assert name.isascii() and "/" not in name and not name.endswith(".")
        assert unquote(name.removeprefix("run_id="), errors="strict") == value


def test_the_collision_from_the_issue_maps_to_two_paths() -> None:
    slash, escaped = log_relative_path(key("col/1")), log_relative_path(key("col%2F1"))
    assert slash != escaped
    assert slash.count("/") == escaped.count("/") == 4  # a '/' in an id never adds a folder


@pytest.mark.parametrize("field", ["dag_id", "run_id", "task_id"])
def test_near_collisions_stay_apart_even_on_case_insensitive_normalising_filesystems(field: str) -> None:
    paths: dict[str, list[str]] = {}
    for value in NEAR_COLLISIONS:
        path = log_relative_path(TaskInstanceKey(**{**vars(key()), field: value}))
        assert path.isascii()
        assert all(0 < len(part) <= MAX_COMPONENT_BYTES for part in path.split("/"))
        assert not any(ord(c) < 32 or c in '\\:*?"<>|' for c in path)
        paths.setdefault(folded(path), []).append(value)
    assert [values for values in paths.values() if len(values) > 1] == []


def test_map_index_and_try_are_part_of_the_path() -> None:
    paths = {log_relative_path(key(map_index=m, tries=t)) for m in (-1, 0, 1, 10) for t in (1, 2, 10)}
    assert len(paths) == 12


def test_long_ids_end_with_a_hash_and_keep_a_readable_start() -> None:
    long_id = "manual__" + "very_long_run_id_" * 30
    name = path_component("run_id", long_id)
    assert len(name) <= MAX_COMPONENT_BYTES
    readable, _, digest = name.partition("~")
    assert long_id.startswith(readable.removeprefix("run_id=")) and len(digest) == 32
    # a character is never cut in half: the readable start decodes (each Ä is %C3%84: 16 fit in 100)
    encoded = path_component("run_id", "Ä" * 100)
    assert unquote(encoded.partition("~")[0].removeprefix("run_id="), errors="strict") == "Ä" * 16


def test_a_log_file_for_each_of_the_near_collisions(tmp_path: Path) -> None:
    """On the real filesystem: every key opens its own file, none overwrites another."""
    for index, value in enumerate(NEAR_COLLISIONS):
        with open_log(str(tmp_path), key(value)) as log:
            log.write(f"{index}\n")
    for index, value in enumerate(NEAR_COLLISIONS):
        assert log_file_path(tmp_path, key(value)).read_text() == f"{index}\n"


def test_the_outcome_line_names_its_try_and_reads_back_only_for_it(tmp_path: Path) -> None:
    mine = key("col/1", map_index=3, tries=2)
    path = tmp_path / "attempt.log"
    path.write_text("[...] {load} INFO - working\n" + result_line(outcome(mine, {"rows": 12})))
    found = result_from_log(path, mine)
    assert found is not None and (found.key, found.state, found.return_value) == (mine, S.SUCCESS, {"rows": 12})
    for other in (
        key("col%2F1", map_index=3, tries=2),  # the run the old log layout confused it with
        key("COL/1", map_index=3, tries=2),
        key("col/1", map_index=4, tries=2),
        key("col/1", map_index=3, tries=1),
        key("col/1", dag_id="etl2", map_index=3, tries=2),
        key("col/1", task_id="Load", map_index=3, tries=2),
    ):
        assert result_from_log(path, other) is None


def test_an_outcome_without_its_identity_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "attempt.log"
    old_style = '{"state": "success", "started_at": "2025-01-01T00:00:00+00:00", "ended_at": '
    old_style += '"2025-01-01T00:00:00+00:00", "return_value": 1, "xcoms": {}, "retryable": true, '
    old_style += '"label": null, "skip_task_ids": [], "error": null}'
    path.write_text(MARKER + old_style + "\n")
    assert result_from_log(path, key()) is None
    path.write_text(MARKER + '{"key": "etl", "state": "success"}\n')
    assert result_from_log(path, key()) is None


def test_an_outcome_written_at_another_keys_path_is_not_applied(tmp_path: Path) -> None:
    """Even if some other process put a finished try's log where this try's belongs."""
    first, second = key("col/1"), key("col%2F1")
    first_log, second_log = log_file_path(tmp_path, first), log_file_path(tmp_path, second)
    with open_log(str(tmp_path), first) as log:
        log.write(result_line(outcome(first)))
    assert result_from_log(first_log, first) is not None
    assert result_from_log(second_log, second) is None  # its own log does not exist
    second_log.parent.mkdir(parents=True)
    second_log.write_bytes(first_log.read_bytes())
    assert result_from_log(second_log, second) is None


def test_result_line_round_trips_every_field_through_a_file(tmp_path: Path) -> None:
    from tradewind.runtime.work import ErrorInfo

    mine = key("run\nwith newline", task_id="tâche", map_index=0)
    result = TaskResult(
        key=mine,
        state=S.FAILED,
        started_at=DAY,
        ended_at=DAY,
        xcoms={"k": [1, 2]},
        error=ErrorInfo("ValueError", "bad", "Traceback ..."),
        retryable=False,
        label="label 0",
        skip_task_ids=("a", "b"),
    )
    path = tmp_path / "attempt.log"
    path.write_text(result_line(result))
    assert path.read_text().count("\n") == 1
    assert result_from_log(path, mine) == result
