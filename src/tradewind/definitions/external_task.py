"""ExternalTaskSensor: wait until tasks (a task group, or the whole run) of another DAG's run for
the same logical date (or the one ``execution_delta``/``execution_date_fn`` gives) reach a state.
ExternalTaskMarker: clearing it clears a task (and its downstream) in another DAG's run
(``control/external_markers.py``).

A worker reads the other DAG's state through the read-only store handle the scheduler gives it
(``definitions.secrets.installed()``, the one Variables are read through; docs/adr/0011): it
counts task instances (or runs) in the wanted states, as Airflow 3 does. Without a store (a
``dags test`` before ``tradewind db migrate``) the sensor fails saying so.

>>> ExternalTaskSensor(task_id="wait_load", external_dag_id="etl", external_task_id="load", mode="reschedule")
>>> ExternalTaskMarker(task_id="mark", external_dag_id="report", external_task_id="wait_load")
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from tradewind.definitions import secrets
from tradewind.definitions.operators.empty import EmptyOperator
from tradewind.definitions.operators.python import call_with_context
from tradewind.definitions.sensors import BaseSensorOperator
from tradewind.definitions.states import DagRunState, TaskInstanceState
from tradewind.errors import DagDefinitionError, TaskSkipped, TradewindError

_TASK_STATES = frozenset(s.value for s in TaskInstanceState)
_RUN_STATES = frozenset(s.value for s in DagRunState)


class ExternalTaskSensor(BaseSensorOperator):
    """Wait for ``external_task_id``/``external_task_ids`` of ``external_dag_id`` (or, with
    neither, its run) at this run's logical date minus ``execution_delta`` (or the date or dates
    ``execution_date_fn(logical_date, **context)`` returns) to be in ``allowed_states``
    (default success). Any in ``failed_states`` fails the sensor (skips it with ``soft_fail``);
    any in ``skipped_states`` skips it."""

    template_fields: Sequence[str] = ("external_dag_id", "external_task_id", "external_task_ids")
    ui_color = "#4db7db"

    def __init__(
        self,
        *,
        external_dag_id: str,
        external_task_id: str | None = None,
        external_task_ids: Collection[str] | None = None,
        external_task_group_id: str | None = None,
        allowed_states: Iterable[str] | None = None,
        skipped_states: Iterable[str] | None = None,
        failed_states: Iterable[str] | None = None,
        execution_delta: timedelta | None = None,
        execution_date_fn: Callable[..., Any] | None = None,
        check_existence: bool = False,
        poll_interval: float | None = None,
        **kwargs: Any,
    ) -> None:
        if poll_interval is not None:  # Airflow's deprecated spelling of poke_interval
            kwargs.setdefault("poke_interval", poll_interval)
        super().__init__(**kwargs)
        where = f"ExternalTaskSensor (task_id: {self.task_id})"
        if external_task_group_id is not None and (external_task_id is not None or external_task_ids):
            raise DagDefinitionError(
                f"{where}: give one of external_task_id, external_task_ids and external_task_group_id"
            )
        self.external_task_group_id = external_task_group_id
        self.allowed_states = [str(s) for s in allowed_states] if allowed_states else ["success"]
        self.skipped_states = [str(s) for s in skipped_states] if skipped_states else []
        self.failed_states = [str(s) for s in failed_states] if failed_states else []
        every = self.allowed_states + self.skipped_states + self.failed_states
        if len(set(every)) != len(every):
            raise DagDefinitionError(
                f"{where}: a state is listed twice across allowed_states, skipped_states and failed_states"
            )
        if external_task_id is not None and external_task_ids:
            raise DagDefinitionError(f"{where}: give external_task_id or external_task_ids, not both")
        ids = [external_task_id] if external_task_id is not None else list(external_task_ids or []) or None
        by_task = ids or external_task_group_id is not None
        valid, kind = (_TASK_STATES, "task instance") if by_task else (_RUN_STATES, "DAG run")
        if not set(every) <= valid:
            raise DagDefinitionError(
                f"{where}: {sorted(set(every) - valid)} are not {kind} states; use {', '.join(sorted(valid))}"
            )
        if execution_delta is not None and execution_date_fn is not None:
            raise DagDefinitionError(f"{where}: give execution_delta or execution_date_fn, not both")
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        self.external_task_ids = ids
        self.execution_delta = execution_delta
        self.execution_date_fn = execution_date_fn
        self.check_existence = check_existence  # Airflow 3 does not check either

    def _dates(self, context: dict[str, Any]) -> list[datetime]:
        logical_date = context.get("logical_date") or getattr(context.get("dag_run"), "run_after", None)
        if logical_date is None:
            raise TradewindError(f"Task '{self.task_id}': this run has no logical date to look for in another DAG")
        if self.execution_delta is not None:
            return [logical_date - self.execution_delta]
        if self.execution_date_fn is not None:
            rest = {k: v for k, v in context.items() if k not in ("logical_date", "execution_date")}
            found = call_with_context(self.execution_date_fn, [logical_date], {}, {**rest, "context": context})
            return list(found) if isinstance(found, (list, tuple)) else [found]
        return [logical_date]

    def poke(self, context: dict[str, Any]) -> bool:
        source = secrets.installed()
        if getattr(source, "count_task_instances", None) is None:
            raise TradewindError(
                f"Task '{self.task_id}' cannot read DAG '{self.external_dag_id}': no store is open in this worker "
                "(run `tradewind db migrate` first)"
            )
        dates = self._dates(context)
        if self.external_task_group_id is not None:
            return self._poke_group(source, dates)
        ids = list(self.external_task_ids or [])
        if len(ids) != len(set(ids)):
            raise TradewindError(f"Task '{self.task_id}': external_task_ids lists a task twice: {ids}")
        what = f"tasks {ids} in DAG {self.external_dag_id}" if ids else f"DAG {self.external_dag_id}"
        print(f"Poking for {what} on {','.join(d.isoformat() for d in dates)} ...")

        def count(states: list[str]) -> float:
            if ids:
                found = source.count_task_instances(self.external_dag_id, ids, dates, states)  # type: ignore[union-attr]
                return found / len(ids)
            return float(source.count_dag_runs(self.external_dag_id, dates, states))  # type: ignore[union-attr]

        if self.failed_states and count(self.failed_states) > 0:
            subject = (
                f"Some of the external tasks {ids} in DAG {self.external_dag_id}"
                if ids
                else (f"The external DAG {self.external_dag_id}")
            )
            if self.soft_fail:
                raise TaskSkipped(f"{subject} failed. Skipping due to soft_fail.")
            raise TradewindError(f"{subject} failed.")
        if self.skipped_states and count(self.skipped_states) > 0:
            raise TaskSkipped(f"The external {what} reached a state in our states-to-skip-on list. Skipping.")
        return count(self.allowed_states) == len(dates)

    def _poke_group(self, source: Any, dates: list[datetime]) -> bool:
        """Airflow 3's rule for a task group: a run counts in a list of states when every instance
        of the group's tasks in it is in one of them (a run with none counts in none)."""
        group, dag_id = self.external_task_group_id, self.external_dag_id
        print(f"Poking for task_group '{group}' in dag '{dag_id}' on {','.join(d.isoformat() for d in dates)} ...")
        runs: dict[str, dict[tuple[str, int], str | None]] = source.task_states_in_group(dag_id, group, dates)

        def count(states: list[str]) -> int:
            return sum(1 for found in runs.values() if found and all(s in states for s in found.values()))

        if self.failed_states and count(self.failed_states) > 0:
            if self.soft_fail:
                raise TaskSkipped(
                    f"The external task_group '{group}' in DAG '{dag_id}' failed. Skipping due to soft_fail."
                )
            raise TradewindError(f"The external task_group '{group}' in DAG '{dag_id}' failed.")
        if self.skipped_states and count(self.skipped_states) > 0:
            raise TaskSkipped(
                f"The external task_group '{group}' in DAG {dag_id} reached a state in our states-to-skip-on list. "
                "Skipping."
            )
        return count(self.allowed_states) == len(dates)


class ExternalTaskMarker(EmptyOperator):
    """Marks that a task of another DAG depends on this one: clearing this task (``tasks clear``,
    the API, the UI) also clears ``external_task_id`` of ``external_dag_id`` and its downstream
    tasks in that DAG's run at ``logical_date`` (a template; default: this run's logical date),
    and follows the markers found there, at most ``recursion_depth`` DAGs deep (Airflow 2's
    rule, which Airflow 3.3 lost: apache/airflow#61451).

    >>> ExternalTaskMarker(task_id="mark", external_dag_id="child", external_task_id="wait_parent")
    """

    # rendered when a clear follows the marker (control/external_markers.py), not when it runs:
    # like Airflow's EmptyOperator, running it does nothing (a run without a logical date too)
    template_fields: Sequence[str] = ()
    ui_color = "#4db7db"

    def __init__(
        self,
        *,
        external_dag_id: str,
        external_task_id: str,
        logical_date: str | datetime | None = "{{ logical_date.isoformat() }}",
        recursion_depth: int = 10,
        execution_date: str | datetime | None = None,  # Airflow 2's name of logical_date
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        where = f"ExternalTaskMarker (task_id: {self.task_id})"
        if execution_date is not None:
            logical_date = execution_date
        if isinstance(logical_date, datetime):
            logical_date = logical_date.isoformat()
        if not isinstance(logical_date, str):
            raise DagDefinitionError(
                f"{where}: logical_date must be a datetime or a template string, got {type(logical_date).__name__}"
            )
        if not isinstance(recursion_depth, int) or isinstance(recursion_depth, bool) or recursion_depth <= 0:
            raise DagDefinitionError(f"{where}: recursion_depth must be a whole number > 0, got {recursion_depth!r}")
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        self.logical_date = logical_date
        self.recursion_depth = recursion_depth

    @property
    def external_marker(self) -> dict[str, Any]:
        """What clearing needs, stored with the serialized DAG."""
        return {
            "dag_id": self.external_dag_id,
            "task_id": self.external_task_id,
            "logical_date": self.logical_date,
            "recursion_depth": self.recursion_depth,
        }
