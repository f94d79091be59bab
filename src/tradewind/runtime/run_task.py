"""``run_task``: the one place user code runs. A WorkItem and its task in, a TaskResult out."""

from __future__ import annotations

import copy
import json
import traceback
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

from tradewind.definitions.current_context import reset_current_context, set_current_context
from tradewind.definitions.mapping import MappedOperator
from tradewind.definitions.states import TaskInstanceState
from tradewind.definitions.xcom_arg import RETURN_KEY
from tradewind.errors import TaskFailedNoRetry, TaskSkipped, TaskTimeout, XComValueError
from tradewind.runtime.context import build_context
from tradewind.runtime.inputs import InputsSource, ResultSequence
from tradewind.runtime.logs import capture_task_output
from tradewind.runtime.task_instance import RuntimeTaskInstance
from tradewind.runtime.templating import render_string, render_template_fields
from tradewind.runtime.work import ErrorInfo, TaskResult, WorkItem
from tradewind.timeouts import time_limit

if TYPE_CHECKING:
    from tradewind.definitions.abstractoperator import AbstractOperator
    from tradewind.definitions.baseoperator import BaseOperator


def _now() -> datetime:
    return datetime.now(UTC)


def _storable(value: Any) -> Any:
    """Plain JSON-ready form of a return value, or XComValueError naming the offending type."""
    if isinstance(value, ResultSequence):
        return [_storable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _storable(v) for k, v in value.items()}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise XComValueError(f"a value of type {type(value).__name__} cannot be stored as an XCom (use JSON types)")


def check_storable(task_id: str, value: Any) -> None:
    try:
        json.dumps(_storable(value))
    except (XComValueError, ValueError, TypeError) as exc:
        raise XComValueError(f"Task '{task_id}' returned {exc}") from None


def prepare_operator(task: AbstractOperator, item: WorkItem, source: InputsSource) -> BaseOperator:
    """The operator to execute: a copy of the task, or for a mapped task the instance's own operator."""
    if isinstance(task, MappedOperator):
        index = item.key.map_index
        expanded = task.expand_input.kwargs_for(index, source, task.task_id)
        return task.unmap(expanded, task.expand_input.names_from_xcom(index))
    return copy.copy(task)  # type: ignore[return-value]


def run_task(task: AbstractOperator, item: WorkItem, log: TextIO) -> TaskResult:
    """Run one try of one task instance; every outcome, user errors included, becomes a TaskResult."""
    key = item.key
    started = _now()
    source = InputsSource(item.inputs, key.task_id, key.map_index)
    ti = RuntimeTaskInstance(item, task, source)
    label: str | None = None
    state = TaskInstanceState.SUCCESS
    error: ErrorInfo | None = None
    retryable = True
    result: Any = None
    with capture_task_output(log, key.display) as writer:
        writer.emit("INFO", f"Running {key.display} of DAG '{key.dag_id}', run '{key.run_id}', try {key.try_number}")
        token = None
        try:
            operator = prepare_operator(task, item, source)
            ti.task = operator
            context = build_context(item.context, operator, ti)
            token = set_current_context(context)
            render_template_fields(operator, context, source)
            timeout = operator.execution_timeout.total_seconds() if operator.execution_timeout else None
            with time_limit(
                timeout,
                lambda: TaskTimeout(f"Task '{key.task_id}' timed out after {timeout:g} seconds (execution_timeout)"),
            ):
                returned = operator.execute(context)
            if operator.do_xcom_push and returned is not None:
                check_storable(key.task_id, returned)
                result = returned
                if operator.multiple_outputs:
                    if not isinstance(returned, dict):
                        raise TypeError(
                            f"Task '{key.task_id}' has multiple_outputs=True, so it must return a dict, "
                            f"not {type(returned).__name__}"
                        )
                    ti.pushed.update({str(k): v for k, v in returned.items()})
            if operator.map_index_template and key.map_index >= 0:
                label = str(render_string(operator.map_index_template, context, operator.dag))
        except TaskSkipped as exc:
            state = TaskInstanceState.SKIPPED
            writer.emit("INFO", f"Skipping: {exc}")
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            state = TaskInstanceState.FAILED
            retryable = not isinstance(exc, (TaskFailedNoRetry, XComValueError))
            error = ErrorInfo(type(exc).__name__, str(exc), traceback.format_exc())
            writer.emit("ERROR", f"Task failed with {type(exc).__name__}: {exc}")
            writer.emit("ERROR", error.traceback.rstrip())
        finally:
            if token is not None:
                reset_current_context(token)
        if state is TaskInstanceState.SUCCESS:
            shown = "" if result is None else f" Returned value was: {_short(result)}"
            writer.emit("INFO", f"Marking task as SUCCESS.{shown}")
    xcoms = dict(ti.pushed)
    if result is not None:
        xcoms[RETURN_KEY] = result
    return TaskResult(
        key=key,
        state=state,
        started_at=started,
        ended_at=_now(),
        return_value=result,
        xcoms=xcoms,
        error=error,
        retryable=retryable,
        label=label,
        skip_task_ids=tuple(ti.skipped) if state is TaskInstanceState.SUCCESS else (),
    )


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
