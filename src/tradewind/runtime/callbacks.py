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


class LogWriter:
    """A writer on a plain text stream (the log of ``dags test``, or of a DAG callback)."""

    def __init__(self, stream: Any, prefix: str) -> None:
        self.stream = stream
        self.prefix = prefix

    def emit(self, level: str, message: str) -> None:
        self.stream.write(f"[{self.prefix}] {level} {message}\n")


def run_dag_callback(dag: Any, success: bool, reason: str, item: Any, writer: _Writer) -> None:
    """Call the DAG's ``on_success_callback`` or ``on_failure_callback`` once for a run that
    ended, as Airflow 3 does: with the context of one task instance of the run (``item``, a
    WorkItem for the instance that ended last, or that failed; None: a run without instances)
    and ``reason`` ("success", "task_failure", "timed_out"). What a callback raises is logged;
    the run's state stays as it is."""
    name = "on_success_callback" if success else "on_failure_callback"
    callbacks = getattr(dag, name, None)
    if not callbacks:
        return
    context: dict[str, Any] = {"dag": dag, "reason": reason}
    if item is not None:
        context.update(_instance_context(dag, item, writer))
        context["reason"] = reason
    else:
        context["run_id"] = None
    from tradewind.definitions.current_context import reset_current_context, set_current_context

    token = set_current_context(context)
    try:
        run_callbacks(name, callbacks, context, writer)
    finally:
        reset_current_context(token)


def _instance_context(dag: Any, item: Any, writer: _Writer) -> dict[str, Any]:
    from tradewind.runtime.context import build_context
    from tradewind.runtime.run_task import WorkerInputs, prepare_operator
    from tradewind.runtime.task_instance import RuntimeTaskInstance

    task = dag.task_dict[item.key.task_id]
    source = WorkerInputs(item.inputs, item.key.task_id, item.key.map_index)
    try:
        operator = prepare_operator(task, item, source)
        ti = RuntimeTaskInstance(item, operator, source)
        return build_context(item.context, operator, ti)
    except Exception as exc:  # the instance's arguments cannot be resolved: a context without it
        writer.emit("WARNING", f"no task context for the DAG callback ({type(exc).__name__}: {exc})")
        return {"dag": dag, "run_id": item.context.run_id, "params": item.context.params, "conf": item.context.conf}


def run_dag_callback_item(task: Any, item: Any, log: Any) -> Any:
    """A DAG callback sent to a worker as a WorkItem (``item.dag_callback``): call it with the
    DAG of ``task`` (the instance named by the item) and report a result the scheduler drops."""
    from datetime import UTC, datetime

    from tradewind.runtime.work import TaskResult

    started = datetime.now(UTC)
    success, reason = item.dag_callback
    writer = LogWriter(log, f"{started:%Y-%m-%dT%H:%M:%S} {item.key.dag_id} {item.key.run_id}")
    run_dag_callback(task.dag, success, reason, item, writer)
    return TaskResult(item.key, S.SUCCESS, started, datetime.now(UTC))
