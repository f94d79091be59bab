"""TriggerDagRunOperator: a task that starts a run of another DAG (docs/adr/0011).

A worker never writes the store. The task computes the run to create (DAG, run id, conf,
logical date) and hands it back as a request in its result; the scheduler creates the run
through the code ``tradewind dags trigger`` uses, then the task succeeds, or, with
``wait_for_completion``, is rescheduled (its worker slot is free) every ``poke_interval``
seconds until the triggered run has ended. Each later poke reads that run's state through the
read-only store handle the scheduler gives its workers (the one Variables are read through).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.definitions import secrets
from tradewind.definitions.baseoperator import BaseOperator
from tradewind.definitions.states import DagRunState
from tradewind.errors import TaskRescheduled, TradewindError

XCOM_RUN_ID = "trigger_run_id"
XCOM_LOGICAL_DATE = "trigger_logical_date"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _states(name: str, values: Sequence[str] | None, default: DagRunState) -> list[str]:
    if not values:
        return [str(default)] if name == "allowed_states" or values is None else []
    try:
        return [str(DagRunState(str(v))) for v in values]
    except ValueError:
        raise TradewindError(
            f"TriggerDagRunOperator({name}={list(values)!r}): each state must be one of "
            f"{', '.join(s.value for s in DagRunState)}"
        ) from None


class TriggerDagRunOperator(BaseOperator):
    """Start a run of ``trigger_dag_id``; optionally wait until it ends.

    ``trigger_run_id`` (templated) names the run (default ``manual__<logical date>``); ``conf``
    (templated, a JSON object or its text) becomes the run's conf; ``logical_date`` (templated,
    a datetime or ISO text) defaults to the time the task first ran. An existing run with that
    id fails the task, is skipped with ``skip_when_already_exists``, or is cleared and run again
    with ``reset_dag_run``. ``wait_for_completion`` waits in reschedule style until the run's
    state is in ``allowed_states`` (the task succeeds) or ``failed_states`` (it fails).
    """

    template_fields: Sequence[str] = ("trigger_dag_id", "trigger_run_id", "logical_date", "conf")
    template_fields_renderers = {"conf": "py"}
    ui_color = "#ffefeb"

    def __init__(
        self,
        *,
        trigger_dag_id: str,
        trigger_run_id: str | None = None,
        conf: dict[str, Any] | str | None = None,
        logical_date: str | datetime | None = None,
        reset_dag_run: bool = False,
        wait_for_completion: bool = False,
        poke_interval: float = 60,
        allowed_states: Sequence[str] | None = None,
        failed_states: Sequence[str] | None = None,
        skip_when_already_exists: bool = False,
        deferrable: bool = False,
        run_after: str | datetime | None = None,
        note: str | None = None,
        fail_when_dag_is_paused: bool = False,
        openlineage_inject_parent_info: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        ignored = {
            "run_after": (run_after is not None, "is ignored: the run may start as soon as it is created"),
            "note": (note is not None, "is ignored: tradewind runs have no notes"),
            "fail_when_dag_is_paused": (
                bool(fail_when_dag_is_paused),
                "is ignored: a run of a paused DAG is created and starts when the DAG is unpaused",
            ),
        }
        if self.dag is not None and self.mapped_from is None:
            for name, (used, what) in ignored.items():
                if used:
                    self.dag.import_warnings.add(f"task '{self.task_id}': TriggerDagRunOperator argument {name} {what}")
        self.openlineage_inject_parent_info = openlineage_inject_parent_info  # no OpenLineage here: nothing to inject
        self.trigger_dag_id = trigger_dag_id
        self.trigger_run_id = trigger_run_id
        self.conf = conf
        self.logical_date = logical_date
        self.reset_dag_run = reset_dag_run
        self.wait_for_completion = wait_for_completion
        self.poke_interval = poke_interval
        self.allowed_states = _states("allowed_states", allowed_states, DagRunState.SUCCESS)
        self.failed_states = _states("failed_states", failed_states, DagRunState.FAILED)
        self.skip_when_already_exists = skip_when_already_exists
        self.deferrable = deferrable  # waits in reschedule style either way

    def _conf(self) -> dict[str, Any]:
        conf = self.conf
        if isinstance(conf, str):
            try:
                conf = json.loads(conf) if conf.strip() else None
            except ValueError as exc:
                raise TradewindError(f"Task '{self.task_id}': conf is not JSON ({exc}): {self.conf!r}") from None
        if conf is None:
            return {}
        if not isinstance(conf, dict):
            raise TradewindError(
                f"Task '{self.task_id}': conf must be a dict (a JSON object), got {type(conf).__name__}"
            )
        try:
            json.dumps(conf)
        except (TypeError, ValueError):
            raise TradewindError(f"Task '{self.task_id}': conf must be JSON serializable: {conf!r}") from None
        return conf

    def _logical_date(self, first_poke: datetime) -> datetime:
        value = self.logical_date
        if value is None or value == "":
            return first_poke
        if isinstance(value, datetime):
            return _utc(value)
        try:
            return _utc(datetime.fromisoformat(str(value)))
        except ValueError:
            raise TradewindError(
                f"Task '{self.task_id}': logical_date {value!r} is not a date; give a datetime or ISO text "
                "such as '2025-01-01T00:00:00+00:00'"
            ) from None

    def execute(self, context: dict[str, Any]) -> None:
        ti = context["ti"]
        first_poke = _utc(ti.rescheduled_since or ti.start_date)
        logical_date = self._logical_date(first_poke)
        run_id = str(self.trigger_run_id) if self.trigger_run_id else f"manual__{logical_date.isoformat()}"
        self.trigger_run_id = run_id
        if ti.rescheduled_since is not None:  # a later poke: the run exists; wait for its end
            self._poke(run_id)
        else:
            ti.trigger_request = {
                "dag_id": str(self.trigger_dag_id),
                "run_id": run_id,
                "conf": self._conf(),
                "logical_date": logical_date.isoformat(),
                "reset_dag_run": bool(self.reset_dag_run),
                "skip_when_already_exists": bool(self.skip_when_already_exists),
                "wait_seconds": float(self.poke_interval) if self.wait_for_completion else None,
            }
            print(f"Triggering DAG '{self.trigger_dag_id}' with run id '{run_id}'")
        ti.xcom_push(XCOM_RUN_ID, run_id)
        ti.xcom_push(XCOM_LOGICAL_DATE, logical_date.isoformat())

    def _poke(self, run_id: str) -> None:
        reader = getattr(secrets.installed(), "dag_run_state", None)
        if reader is None:
            raise TradewindError(
                f"Task '{self.task_id}' cannot read the state of run '{run_id}' of DAG '{self.trigger_dag_id}': "
                "no store is open in this worker"
            )
        state = reader(str(self.trigger_dag_id), run_id)
        if state is None:
            raise TradewindError(f"The run '{run_id}' of DAG '{self.trigger_dag_id}' this task triggered is gone")
        if state in self.failed_states:
            raise TradewindError(f"{self.trigger_dag_id} failed with failed state {state}")
        if state in self.allowed_states:
            print(f"Run '{run_id}' of DAG '{self.trigger_dag_id}' ended in allowed state {state}")
            return
        print(f"Run '{run_id}' of DAG '{self.trigger_dag_id}' is {state}; waiting")
        raise TaskRescheduled(datetime.now(UTC) + timedelta(seconds=float(self.poke_interval)))
