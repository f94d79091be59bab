"""Capturing what a task prints and logs into timestamped lines on one text sink."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TextIO


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class TaskLogWriter:
    """A file-like object: every complete line written becomes one prefixed log line."""

    def __init__(self, sink: TextIO, label: str, level: str = "INFO") -> None:
        self.sink = sink
        self.label = label
        self.level = level
        self._partial = ""

    def emit(self, level: str, message: str) -> None:
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
