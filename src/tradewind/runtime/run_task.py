"""``run_task``: the one place user code runs. A WorkItem and its task in, a TaskResult out."""

from __future__ import annotations

import copy
import traceback
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from tradewind import serde
from tradewind.definitions.current_context import reset_current_context, set_current_context
from tradewind.definitions.mapping import MappedOperator
from tradewind.definitions.retry_policy import RetryAction
from tradewind.definitions.secrets import redact
from tradewind.definitions.states import TaskInstanceState
from tradewind.definitions.xcom_arg import RETURN_KEY
from tradewind.errors import TaskFailedNoRetry, TaskRescheduled, TaskSkipped, TaskTimeout, XComValueError
from tradewind.runtime.asset_events import emitted_events
from tradewind.runtime.callbacks import callback_for, run_callbacks
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


def stored(what: str, value: Any) -> Any:
    """``value`` as downstream tasks and the scheduler will see it (see :mod:`tradewind.serde`);
    a value that cannot be stored fails the task with a message naming ``what``, the type and where."""
    try:
        return serde.stored_form(value)
    except XComValueError as exc:
        raise XComValueError(f"{what}: {exc}") from None


class WorkerInputs(InputsSource):
    """The upstream values as the running task sees them: dataclasses are rebuilt into their
    classes (the scheduler holds them as :class:`~tradewind.serde.StoredDataclass`). Only the
    values the task reads are visited, so a mapped instance does not pay for the whole list."""

    def __init__(self, inputs: dict[tuple[str, str], Any], task_id: str = "", map_index: int = -1) -> None:
        super().__init__(inputs, task_id, map_index)
        self._rebuilt: dict[tuple[str, str], Any] = {}

    def value(self, task_id: str, key: str) -> Any:
        try:
            return self._rebuilt[(task_id, key)]
        except KeyError:
            pass
        raw = super().value(task_id, key)
        if isinstance(raw, ResultSequence):
            items = [serde.rebuild(v) for v in raw]
            value: Any = raw if all(a is b for a, b in zip(items, raw)) else ResultSequence(items, raw.indexes)
        else:
            value = serde.rebuild(raw)
        self._rebuilt[(task_id, key)] = value
        return value

    def item(self, task_id: str, key: str, index: int) -> Any:
        return serde.rebuild(super().item(task_id, key, index))


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
    source = WorkerInputs(item.inputs, key.task_id, key.map_index)
    ti = RuntimeTaskInstance(item, task, source)
    ti.start_date = started
    label: str | None = None
    state = TaskInstanceState.SUCCESS
    error: ErrorInfo | None = None
    retryable = True
    result: Any = None
    returned: Any = None
    pushed: dict[str, Any] = {}
    reschedule_at: datetime | None = None
    retry_delay: timedelta | None = None
    context: dict[str, Any] | None = None
    operator: Any = task
    failure: BaseException | None = None
    asset_events: tuple[dict[str, Any], ...] = ()
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
                run_callbacks("on_execute_callback", operator.on_execute_callback, context, writer)
                operator.pre_execute(context)
                returned = operator.execute(context)
                operator.post_execute(context, returned)
                asset_events = emitted_events(getattr(operator, "outlets", None), context["outlet_events"])
                stored(f"The extra of the asset events of task '{key.display}'", [e["extra"] for e in asset_events])
            # Airflow 3 ends an unmapped task that skips downstream tasks (a branch, a false
            # short-circuit) before its return value is pushed: it stores none
            skipping = bool(ti.skipped) and key.map_index < 0
            if operator.do_xcom_push and returned is not None and not skipping:
                if operator.multiple_outputs and not isinstance(returned, dict):
                    raise TypeError(
                        f"Task '{key.task_id}' has multiple_outputs=True, so it must return a dict, "
                        f"not {type(returned).__name__}"
                    )
                result = stored(f"The return value of task '{key.display}'", returned)
            # decided here, before the task counts as a success, for dags test and the scheduler alike
            pushed = {k: stored(f"XCom '{k}' pushed by task '{key.display}'", v) for k, v in ti.pushed.items()}
            if operator.multiple_outputs and result is not None:
                pushed.update({str(k): v for k, v in result.items()})
            if operator.map_index_template and key.map_index >= 0:
                label = str(render_string(operator.map_index_template, context, operator.dag))
        except TaskSkipped as exc:
            state = TaskInstanceState.SKIPPED
            writer.emit("INFO", f"Skipping: {exc}")
            label = _label_anyway(operator, context, key.map_index)
        except TaskRescheduled as exc:
            state = TaskInstanceState.UP_FOR_RESCHEDULE
            reschedule_at = exc.reschedule_at if isinstance(exc.reschedule_at, datetime) else None
            writer.emit("INFO", str(exc))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            state = TaskInstanceState.FAILED
            failure = exc
            retryable = not isinstance(exc, TaskFailedNoRetry)
            # shown by dags test and stored: masked like the log (definitions/secrets.py)
            error = ErrorInfo(type(exc).__name__, redact(str(exc)), redact(traceback.format_exc()))
            writer.emit("ERROR", f"Task failed with {type(exc).__name__}: {exc}")
            writer.emit("ERROR", error.traceback.rstrip())
            if retryable:
                retryable, retry_delay = apply_retry_policy(operator, exc, item, context, writer)
            label = _label_anyway(operator, context, key.map_index)
        finally:
            if token is not None:
                reset_current_context(token)
        if state is TaskInstanceState.SUCCESS:
            shown = "" if result is None else f" Returned value was: {_short(returned)}"
            writer.emit("INFO", f"Marking task as SUCCESS.{shown}")
        will_retry = retryable and key.try_number < item.max_tries
        callback = callback_for(state, will_retry)
        if callback is not None and context is not None:
            token = set_current_context(context)
            try:
                extra = {"exception": failure} if failure is not None else {}
                run_callbacks(callback, getattr(operator, callback, None), {**context, **extra}, writer)
            finally:
                reset_current_context(token)
    if state is not TaskInstanceState.SUCCESS:
        result, pushed = None, {}  # only a success hands values on
    xcoms = pushed
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
        reschedule_at=reschedule_at,
        retry_delay=retry_delay,
        trigger_request=ti.trigger_request if state is TaskInstanceState.SUCCESS else None,
        asset_events=asset_events if state is TaskInstanceState.SUCCESS else (),
    )


def apply_retry_policy(
    operator: Any, exc: BaseException, item: WorkItem, context: dict[str, Any] | None, writer: Any
) -> tuple[bool, timedelta | None]:
    """Ask the task's ``retry_policy`` about a failed try: (may it be retried, the delay it chose).
    A policy that raises counts as none, as in Airflow (its error goes to the task's log)."""
    policy = getattr(operator, "retry_policy", None)
    if policy is None:
        return True, None
    try:
        decision = policy.evaluate(
            # Airflow's max_tries counts the retries (the first try is not one of them)
            exception=exc,
            try_number=item.key.try_number,
            max_tries=item.max_tries - 1,
            context=context,
        )
        action = RetryAction(decision.action)
    except Exception as error:
        writer.emit("ERROR", f"The retry policy failed ({type(error).__name__}: {error}); retrying as without it")
        return True, None
    if decision.reason:
        writer.emit("INFO", f"Retry policy decision: {action.value} ({decision.reason})")
    if action is RetryAction.FAIL:
        return False, None
    return True, decision.retry_delay if action is RetryAction.RETRY else None


def _label_anyway(operator: BaseOperator | None, context: dict[str, Any] | None, map_index: int) -> str | None:
    """The label of an instance that failed or was skipped, as Airflow renders it too (so the
    failed index among thousands is found by its label); a template that cannot render then
    gives no label rather than hiding the task's own error."""
    if operator is None or context is None or not operator.map_index_template or map_index < 0:
        return None
    try:
        return str(render_string(operator.map_index_template, context, operator.dag))
    except Exception:
        return None


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
