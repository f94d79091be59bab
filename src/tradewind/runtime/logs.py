"""Capturing what a task prints and logs into timestamped lines on one text sink, and where
the log of each try lives."""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TextIO

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.secrets import redact

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
