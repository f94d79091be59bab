"""Task callbacks (``on_execute_callback``, ``on_success_callback``, ``on_failure_callback``,
``on_retry_callback``, ``on_skipped_callback``), called in the worker as Airflow 3 does.

Each argument may be one callable or a list; each is called with the task's context (with
``exception`` set for a failure or a retry). A callback that raises is logged in the task's log
and changes nothing about the task's outcome, as in Airflow.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any, Protocol

from tradewind.definitions.states import TaskInstanceState

S = TaskInstanceState


class _Writer(Protocol):
    def emit(self, level: str, message: str) -> None: ...


def callback_for(state: TaskInstanceState, will_retry: bool) -> str | None:
    """The callback argument a try that ended in ``state`` calls (None: no callback)."""
    if state is S.SUCCESS:
        return "on_success_callback"
    if state is S.SKIPPED:
        return "on_skipped_callback"
    if state is S.FAILED:
        return "on_retry_callback" if will_retry else "on_failure_callback"
    return None


def run_callbacks(name: str, callbacks: Any, context: dict[str, Any], writer: _Writer) -> None:
    """Call each of ``callbacks`` with ``context``; log (and swallow) what one raises."""
    if callbacks is None:
        return
    for callback in callbacks if isinstance(callbacks, (list, tuple)) else [callbacks]:
        label = getattr(callback, "__name__", type(callback).__name__)
        writer.emit("INFO", f"Calling {name} {label}")
        try:
            _call(callback, context)
        except Exception as exc:
            writer.emit("ERROR", f"{name} {label} failed with {type(exc).__name__}: {exc}")
            writer.emit("ERROR", traceback.format_exc().rstrip())


def _call(callback: Callable[..., Any], context: dict[str, Any]) -> None:
    callback(context)
