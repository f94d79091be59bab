"""A try's outcome, written as the last line of its log file by the worker that ran it.

The scheduler records results in the store; if it dies between a task's end and that write,
the restarted scheduler reads the outcome from the log instead of running the task again.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import TaskInstanceState
from tradewind.runtime.work import ErrorInfo, TaskResult

MARKER = "::tradewind-result:: "


def result_line(result: TaskResult) -> str:
    record: dict[str, Any] = {
        "state": str(result.state),
        "started_at": result.started_at.isoformat(),
        "ended_at": result.ended_at.isoformat(),
        "return_value": result.return_value,
        "xcoms": result.xcoms,
        "retryable": result.retryable,
        "label": result.label,
        "skip_task_ids": list(result.skip_task_ids),
        "error": None if result.error is None else [result.error.type, result.error.message, result.error.traceback],
    }
    return MARKER + json.dumps(record, default=str) + "\n"


def _last_line(path: Path, tail: int = 1 << 20) -> str:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - tail))
        lines = handle.read().decode("utf-8", errors="replace").rstrip("\n").rsplit("\n", 1)
    return lines[-1]


def result_from_log(path: Path, key: TaskInstanceKey) -> TaskResult | None:
    """The outcome recorded at the end of a try's log, or None if the try did not finish."""
    try:
        line = _last_line(path)
    except OSError:
        return None
    if not line.startswith(MARKER):
        return None
    try:
        record = json.loads(line[len(MARKER) :])
        error = record["error"]
        return TaskResult(
            key=key,
            state=TaskInstanceState(record["state"]),
            started_at=datetime.fromisoformat(record["started_at"]),
            ended_at=datetime.fromisoformat(record["ended_at"]),
            return_value=record["return_value"],
            xcoms=record["xcoms"],
            error=None if error is None else ErrorInfo(*error),
            retryable=record["retryable"],
            label=record["label"],
            skip_task_ids=tuple(record["skip_task_ids"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
