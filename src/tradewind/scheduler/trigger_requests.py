"""Runs that a task asked for: the scheduler's half of ``TriggerDagRunOperator`` (docs/adr/0011).

A worker never writes runs. A ``TriggerDagRunOperator`` that succeeds carries a request in its
result (``TaskResult.trigger_request``: dag_id, run_id, conf, logical_date, reset_dag_run,
skip_when_already_exists, wait_seconds). :func:`carry_out` creates that run with the code
``tradewind dags trigger`` uses (``StoreGateway.create_manual_run``; a running scheduler starts it
like any queued run) and says how the task ends: as it is, skipped, failed with the reason, or,
when it waits for the run, rescheduled (``up_for_reschedule``, its worker slot free) until the
run has ended. ``dags test`` runs one DAG without a store and creates no run: :func:`not_in_dag_test`.

A scheduler may die after creating the run and before recording the task's success. The run is
stored with the ids of the try that asked for it (``dag_run.triggered_by``), so when the
restarted scheduler applies that try's outcome again (from the end of its log) it finds the run
it created and the task ends as it would have: the run is neither lost nor created twice, and
the task does not fail for a run id that is taken (nor clear that run, with ``reset_dag_run``).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tradewind.definitions.states import TaskInstanceState
from tradewind.errors import DagDefinitionError, DagNotFound, TradewindError
from tradewind.runtime.work import ErrorInfo, TaskResult
from tradewind.store.queries import DagRunAlreadyExists

if TYPE_CHECKING:  # persistence imports dag_test, which imports this module
    from tradewind.scheduler.persistence import StoreGateway


def _failed(result: TaskResult, message: str) -> TaskResult:
    return dataclasses.replace(
        result,
        state=TaskInstanceState.FAILED,
        error=ErrorInfo("DagRunTriggerError", message, message + "\n"),
        return_value=None,
        xcoms={},
        trigger_request=None,
    )


def carry_out(gateway: StoreGateway, result: TaskResult) -> tuple[TaskResult, str | None]:
    """Create the run ``result`` asks for; return the result to apply and a line for the log."""
    request = result.trigger_request
    if request is None or result.state is not TaskInstanceState.SUCCESS:
        return result, None
    dag_id, run_id = str(request["dag_id"]), str(request["run_id"])
    task = f"Task '{result.key.display}' (TriggerDagRunOperator)"
    try:
        dag = gateway.get_dag(dag_id)
    except DagNotFound:
        return _failed(result, f"{task}: DAG '{dag_id}' to trigger was not found; check trigger_dag_id"), None
    logical_date = datetime.fromisoformat(request["logical_date"]) if request.get("logical_date") else None
    said = f"{task} triggered run '{run_id}' of DAG '{dag_id}'"
    asker = _ids(result)
    try:
        gateway.create_manual_run(dag, logical_date, dict(request.get("conf") or {}), run_id=run_id, triggered_by=asker)
    except DagRunAlreadyExists as exc:
        if gateway.run_triggered_by(dag_id, run_id) == asker:  # created for this very try before a restart
            said += " (before the scheduler restarted)"
        elif request.get("reset_dag_run"):
            try:
                gateway.clear(
                    dag,
                    run_id=run_id,
                    task_regex=None,
                    map_index=None,
                    only_failed=False,
                    downstream=False,
                    dry_run=False,
                )
            except TradewindError as cleared:
                return _failed(result, f"{task}: reset_dag_run could not clear run '{run_id}': {cleared}"), None
            said = f"{task} cleared run '{run_id}' of DAG '{dag_id}' to run it again (reset_dag_run)"
        elif request.get("skip_when_already_exists"):
            skipped = dataclasses.replace(
                result, state=TaskInstanceState.SKIPPED, return_value=None, xcoms={}, trigger_request=None
            )
            return skipped, f"{task} skipped: run '{run_id}' of DAG '{dag_id}' exists (skip_when_already_exists)"
        else:
            return _failed(result, f"{task}: {exc}; or set reset_dag_run=True or skip_when_already_exists=True"), None
    except DagDefinitionError as exc:
        return _failed(result, f"{task}: conf does not fit the params of DAG '{dag_id}': {exc}"), None
    except (TradewindError, OverflowError, ValueError) as exc:
        return _failed(result, f"{task}: cannot trigger DAG '{dag_id}': {exc}"), None
    wait = request.get("wait_seconds")
    if wait is None:
        return result, said
    waiting = dataclasses.replace(
        result,
        state=TaskInstanceState.UP_FOR_RESCHEDULE,
        reschedule_at=datetime.now(UTC) + timedelta(seconds=float(wait)),
        return_value=None,
        xcoms={},
    )
    return waiting, said + f"; waiting for it to end (checked every {float(wait):g}s)"


def _ids(result: TaskResult) -> list[Any]:
    key = result.key
    return [key.dag_id, key.run_id, key.task_id, key.map_index, key.try_number]


def not_in_dag_test(result: TaskResult) -> str | None:
    """``dags test`` creates no run: the line saying so, for a result that asked for one."""
    request = result.trigger_request
    if request is None or result.state is not TaskInstanceState.SUCCESS:
        return None
    return (
        f"Task '{result.key.display}' would trigger run '{request['run_id']}' of DAG '{request['dag_id']}': "
        "dags test runs one DAG and creates no other run (use `tradewind dags test "
        f"{request['dag_id']}` to run that one; under the scheduler the run is created"
        + (" and waited for)" if request.get("wait_seconds") is not None else ")")
    )
