"""Capturing what a task prints and logs into timestamped lines on one text sink, where the
log of each try lives, and reading it back."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.secrets import redact
from tradewind.errors import TradewindError
from tradewind.runtime.durable import MARKER, result_from_log

_second: list[Any] = [None, ""]  # the last whole second formatted, and its text


def _stamp() -> str:
    """``2025-07-01T06:00:00.123Z``; the date and time part is formatted once per second."""
    now = datetime.now(UTC)
    whole = now.replace(microsecond=0)
    if whole != _second[0]:
        _second[0], _second[1] = whole, whole.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{_second[1]}.{now.microsecond // 1000:03d}Z"


class TaskLogWriter:
    """A file-like object: every complete line written becomes one prefixed log line."""

    def __init__(self, sink: TextIO, label: str, level: str = "INFO") -> None:
        self.sink = sink
        self.label = label
        self.level = level
        self._partial = ""

    def emit(self, level: str, message: str) -> None:
        message = redact(message)  # passwords of connections read, sensitive variables (definitions/secrets.py)
        for line in message.splitlines() or [""]:
            self.sink.write(f"[{_stamp()}] {{{self.label}}} {level} - {line}\n")

    def write(self, text: str) -> int:
        data = self._partial + text
        *lines, self._partial = data.split("\n")
        for line in lines:
            self.emit(self.level, line)
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self.emit(self.level, self._partial)
            self._partial = ""
        self.sink.flush()

    def isatty(self) -> bool:
        return False


class _Handler(logging.Handler):
    def __init__(self, writer: TaskLogWriter) -> None:
        super().__init__(logging.INFO)
        self.writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            self.writer.emit(record.levelname, message)
        except Exception:  # a broken log call must not fail the task
            self.handleError(record)


@contextmanager
def capture_task_output(sink: TextIO, label: str) -> Iterator[TaskLogWriter]:
    """Route print() and logging inside the block to ``sink`` as log lines labelled ``label``."""
    out = TaskLogWriter(sink, label, "INFO")
    err = TaskLogWriter(sink, label, "ERROR")
    handler = _Handler(out)
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    try:
        yield out
    finally:
        out.flush()
        err.flush()
        sys.stdout, sys.stderr = saved
        root.removeHandler(handler)
        root.setLevel(previous_level)


# -- where a try's log lives
#
# Each id becomes one path component, ``name=ENCODED``, ENCODED being the id's UTF-8 bytes with
# every byte outside ``[a-z0-9_.+-]`` percent-encoded (``%XX``, upper-case hex), a final '.' too.
# That keeps ordinary ids readable and is injective on every filesystem: '/', '%', control
# characters and ':' never appear raw; upper-case letters are encoded, so a case-insensitive
# filesystem cannot merge ``A`` and ``a``; non-ASCII is encoded byte by byte, so NFC and NFD
# spellings stay apart and there is nothing left for a filesystem to normalise; no name ends
# with '.', which Windows-style filesystems drop. ``urllib.parse.unquote`` decodes it.
# A component longer than MAX_COMPONENT_BYTES keeps the first part of its encoding and ends
# with ``~`` and 32 hex digits of the SHA-256 of the id: '~' never appears in a short form, so a
# long form cannot equal a short one, and two long forms differ where their hashes do.

MAX_COMPONENT_BYTES = 140  # under every common NAME_MAX (255; eCryptfs 143)
_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_.+-")
_PLAIN = re.compile(r"[a-z0-9_.+-]*")
_HASH_DIGITS = 32


def _encode_char(char: str) -> str:
    raw = char.encode("utf-8", errors="surrogatepass")  # a lone surrogate too: Python ids may hold one
    return char if raw[0] in _SAFE else "".join(f"%{b:02X}" for b in raw)


@lru_cache(maxsize=4096)
def path_component(name: str, value: str) -> str:
    """``name=value`` as one file or folder name that no other value of ``name`` shares."""
    if _PLAIN.fullmatch(value) and not value.endswith(".") and len(name) + 1 + len(value) <= MAX_COMPONENT_BYTES:
        return f"{name}={value}"
    parts = [_encode_char(char) for char in value]
    if parts and parts[-1] == ".":
        parts[-1] = "%2E"
    encoded = "".join(parts)
    if len(name) + 1 + len(encoded) <= MAX_COMPONENT_BYTES:
        return f"{name}={encoded}"
    digest = hashlib.sha256(value.encode("utf-8", errors="surrogatepass")).hexdigest()[:_HASH_DIGITS]
    room = MAX_COMPONENT_BYTES - len(name) - 2 - _HASH_DIGITS  # '=' and '~'
    kept, used = [], 0
    for part in parts:  # whole characters only: the kept part stays decodable
        if used + len(part) > room:
            break
        kept.append(part)
        used += len(part)
    return f"{name}={''.join(kept)}~{digest}"


def log_relative_path(key: TaskInstanceKey) -> str:
    """``dag_id=…/run_id=…/task_id=…/map_index=N/attempt=N.log`` (see ``path_component``)."""
    return (
        f"{path_component('dag_id', key.dag_id)}/{path_component('run_id', key.run_id)}"
        f"/{path_component('task_id', key.task_id)}/map_index={int(key.map_index)}/attempt={int(key.try_number)}.log"
    )


def dag_callback_log_relative_path(key: TaskInstanceKey) -> str:
    """``dag_id=…/run_id=…/dag_callbacks.log``: the log of the run's DAG-level callbacks."""
    return f"{path_component('dag_id', key.dag_id)}/{path_component('run_id', key.run_id)}/dag_callbacks.log"


# -- reading a try's log back (``tasks logs``, the API's log endpoint, the UI's log page)
#
# Offsets are byte offsets into the log file. A read returns whole lines, and the start of an
# unfinished last line unless it could be the start of the outcome line, so that a follower
# never shows a piece of that line; the outcome line (``runtime.durable``) is for the scheduler,
# never shown. Only the worker writes a line that begins with the marker: every line the task
# prints or logs begins with its ``[timestamp]``.

READ_CHUNK = 1 << 20  # bytes read at most per call, unless one hidden line is longer


class TaskLogNotFound(TradewindError):
    """No log exists for this try of this task instance (it has not started, or ran elsewhere)."""

    def __init__(self, key: TaskInstanceKey, tries: list[int]) -> None:
        self.key, self.tries = key, tries
        if len(tries) > 1:
            have = f"logs exist for tries {', '.join(map(str, tries))}"
        else:
            have = f"a log exists for try {tries[0]}" if tries else "no try of it has a log yet"
        super().__init__(
            f"No log for try {key.try_number} of {key.display} in run '{key.run_id}' of '{key.dag_id}': {have}"
        )


def task_log_file(
    logs_folder: str | os.PathLike[str], dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int
) -> Path:
    """The log file of one try, always inside ``logs_folder`` whatever the ids hold."""
    key = TaskInstanceKey(str(dag_id), str(run_id), str(task_id), int(map_index), int(try_number))
    root = os.path.normpath(os.path.abspath(logs_folder))
    path = os.path.normpath(os.path.join(root, log_relative_path(key)))
    if not path.startswith(root + os.sep):  # cannot happen: each id is one encoded component
        raise ValueError(f"log path of {key} leaves the logs folder")
    return Path(path)


def task_log_tries(
    logs_folder: str | os.PathLike[str], dag_id: str, run_id: str, task_id: str, map_index: int = -1
) -> list[int]:
    """The try numbers of this task instance that have a log, ascending."""
    folder = task_log_file(logs_folder, dag_id, run_id, task_id, map_index, 1).parent
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(int(found.group(1)) for name in names if (found := _ATTEMPT.fullmatch(name)))


_ATTEMPT = re.compile(r"attempt=([1-9][0-9]*)\.log")
_MARKER = MARKER.encode()


def read_task_log(
    logs_folder: str | os.PathLike[str],
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int = -1,
    try_number: int = 1,
    offset: int = 0,
    max_bytes: int = READ_CHUNK,
) -> tuple[str, int]:
    """The text of one try's log from byte ``offset``, and the offset to read on from.

    Raises :class:`TaskLogNotFound` if the try has no log. Reading again from the returned
    offset gives what was written since (``--follow``); text returned across calls joins up to
    the whole log without the outcome line.
    """
    path = task_log_file(logs_folder, dag_id, run_id, task_id, map_index, try_number)
    try:
        handle = path.open("rb")
    except (FileNotFoundError, NotADirectoryError):
        key = TaskInstanceKey(dag_id, run_id, task_id, int(map_index), int(try_number))
        raise TaskLogNotFound(key, task_log_tries(logs_folder, dag_id, run_id, task_id, map_index)) from None
    with handle:
        offset = max(0, int(offset))
        at_line_start = offset == 0
        if offset:
            handle.seek(offset - 1)
            at_line_start = handle.read(1) == b"\n"
        data = handle.read(max(1, max_bytes))
        shown: list[bytes] = []
        used = 0
        while used < len(data):
            end = data.find(b"\n", used)
            line = data[used:] if end < 0 else data[used : end + 1]
            if at_line_start and line.startswith(_MARKER[: len(line)]):
                if end >= 0:
                    used = end + 1  # the outcome line: skip it
                    continue
                skipped = _skip_line(handle)  # longer than the chunk, or not yet written in full
                if skipped is None:
                    break
                used = len(data) + skipped
                data = b""
                break
            if end < 0:  # an unfinished line: show it up to its last whole character
                line = line[: len(line) - _incomplete_tail(line)]
            shown.append(line)
            used += len(line)
            at_line_start = end >= 0
            if end < 0:
                break
    return b"".join(shown).decode("utf-8", errors="replace"), offset + used


def _skip_line(handle: BinaryIO) -> int | None:
    """Bytes from the handle's position to the end of the line there, newline included; None if
    the line has no end yet."""
    skipped = 0
    while block := handle.read(READ_CHUNK):
        end = block.find(b"\n")
        if end >= 0:
            return skipped + end + 1
        skipped += len(block)
    return None


def _incomplete_tail(data: bytes) -> int:
    """How many bytes at the end of ``data`` are the start of a UTF-8 character not yet whole."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # a lead byte (or ASCII): is its sequence complete?
            need = (
                1
                if byte < 0x80
                else 2
                if byte >> 5 == 0b110
                else 3
                if byte >> 4 == 0b1110
                else 4
                if byte >> 3 == 0b11110
                else 1
            )
            return back if need > back else 0
    return 0


def task_log_finished(
    logs_folder: str | os.PathLike[str], dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int
) -> bool:
    """Whether the worker wrote this try's outcome at the end of its log (the try has ended)."""
    key = TaskInstanceKey(dag_id, run_id, task_id, int(map_index), int(try_number))
    return result_from_log(task_log_file(logs_folder, dag_id, run_id, task_id, map_index, try_number), key) is not None
