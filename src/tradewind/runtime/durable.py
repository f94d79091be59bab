"""A try's outcome, written as the last line of its log file by the worker that ran it.

The scheduler records results in the store; if it dies between a task's end and that write,
the restarted scheduler reads the outcome from the log instead of running the task again.
The line names the try it belongs to (dag_id, run_id, task_id, map_index, try_number), and an
outcome is only ever read back for exactly that try: a log that holds another try's outcome
(however it came to be at that path) counts as holding none.

The line is masked like every other line of the log (``definitions/secrets.py``): a secret the
task read never reaches the file, not even inside its return value. A line whose values had to
be masked cannot give them back: it is marked ``masked``, and read back as a failed try that
may be retried (it only is read back when the scheduler lost the result it was sent).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tradewind import serde
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.secrets import redact
from tradewind.definitions.states import TaskInstanceState
from tradewind.runtime.work import ErrorInfo, TaskResult

MARKER = "::tradewind-result:: "
_VALUES = ("return_value", "xcoms", "trigger_request", "label")  # lost when masked


def _identity(key: TaskInstanceKey) -> dict[str, Any]:
    return {
        "dag_id": key.dag_id,
        "run_id": key.run_id,
        "task_id": key.task_id,
        "map_index": key.map_index,
        "try_number": key.try_number,
    }


def result_line(result: TaskResult) -> str:
    record: dict[str, Any] = {
        "key": _identity(result.key),
        "state": str(result.state),
        "started_at": result.started_at.isoformat(),
        "ended_at": result.ended_at.isoformat(),
        "return_value": serde.encode(result.return_value),
        "xcoms": {name: serde.encode(v) for name, v in result.xcoms.items()},
        "retryable": result.retryable,
        "label": result.label,
        "skip_task_ids": list(result.skip_task_ids),
        "reschedule_at": result.reschedule_at.isoformat() if result.reschedule_at else None,
        "retry_delay": result.retry_delay.total_seconds() if result.retry_delay is not None else None,
        "trigger_request": result.trigger_request,
        "asset_events": list(result.asset_events),
        "error": None if result.error is None else [result.error.type, result.error.message, result.error.traceback],
    }
    # through JSON first: what is masked is exactly what would be written (a datetime or other
    # value json.dumps turns into text included)
    # (the ids are left as they are: they name the log's path already, and identify the try)
    plain = json.loads(json.dumps(record, default=str))
    masked = {name: value if name == "key" else _masked(value) for name, value in plain.items()}
    if any(masked[name] != plain[name] for name in _VALUES):
        masked["masked"] = True
    return MARKER + json.dumps(masked) + "\n"


def _masked(value: Any) -> Any:
    """``value`` (decoded JSON) with every masked secret in its strings (and keys) replaced."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_masked(item) for item in value]
    if isinstance(value, dict):
        return {redact(key): _masked(item) for key, item in value.items()}
    return value


def _masked_outcome(key: TaskInstanceKey, record: dict[str, Any]) -> TaskResult:
    """The outcome of a try whose values held a secret (masked in the log, so lost): it counts
    as a failed try, retried if it has retries left."""
    message = (
        f"this try ended {record['state']}, but its return value held a secret (a Variable or Connection "
        "value, masked in its log) and the scheduler stopped before recording it; the try counts as failed"
    )
    return TaskResult(
        key=key,
        state=TaskInstanceState.FAILED,
        started_at=datetime.fromisoformat(record["started_at"]),
        ended_at=datetime.fromisoformat(record["ended_at"]),
        error=ErrorInfo("OutcomeMasked", message, ""),
        retryable=True,
    )


def _last_line(path: Path, tail: int = 1 << 20) -> str:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - tail))
        lines = handle.read().decode("utf-8", errors="replace").rstrip("\n").rsplit("\n", 1)
    return lines[-1]


def result_from_log(path: Path, key: TaskInstanceKey) -> TaskResult | None:
    """The outcome recorded at the end of a try's log, or None if the try did not finish or the
    outcome there is not this try's (``key``)."""
    try:
        line = _last_line(path)
    except OSError:
        return None
    if not line.startswith(MARKER):
        return None
    try:
        record = json.loads(line[len(MARKER) :])
        if record.get("key") != _identity(key):
            return None
        if record.get("masked"):
            return _masked_outcome(key, record)
        error = record["error"]
        return TaskResult(
            key=key,
            state=TaskInstanceState(record["state"]),
            started_at=datetime.fromisoformat(record["started_at"]),
            ended_at=datetime.fromisoformat(record["ended_at"]),
            return_value=serde.decode(record["return_value"]),
            xcoms={name: serde.decode(v) for name, v in record["xcoms"].items()},
            error=None if error is None else ErrorInfo(*error),
            retryable=record["retryable"],
            label=record["label"],
            skip_task_ids=tuple(record["skip_task_ids"]),
            reschedule_at=datetime.fromisoformat(record["reschedule_at"]) if record.get("reschedule_at") else None,
            trigger_request=record.get("trigger_request"),
            asset_events=tuple(record.get("asset_events") or ()),
            retry_delay=timedelta(seconds=record["retry_delay"]) if record.get("retry_delay") is not None else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
