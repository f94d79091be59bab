"""Clearing across DAGs: an ExternalTaskMarker that is cleared clears its target.

When a clear resets an instance of an ``ExternalTaskMarker`` (definitions/external_task.py), the
marked task of the other DAG and its downstream tasks are cleared too, in that DAG's run at the
marker's ``logical_date`` (a template, rendered here with the cleared run's dates), and the
markers found there are followed in turn. The depth is limited by the ``recursion_depth`` of the
first marker met (Airflow 2's rule; Airflow 3.3 lost the feature, apache/airflow#61451, while its
documentation still describes it). Instances already visited are not followed again, so a cycle
ends at the depth limit or earlier.

The whole plan is worked out first (dry runs); only when every step is possible (no marked run
is running) is anything changed, so a refused clear changes nothing. ``StoreGateway.clear`` calls
this, so ``tasks clear``, the API and the UI all follow markers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tradewind.definitions.serialized import SerializedDAG
from tradewind.errors import TradewindError
from tradewind.store import queries as q
from tradewind.store.engine import session_scope

if TYPE_CHECKING:
    from tradewind.scheduler.persistence import StoreGateway

Key = tuple[str, str, int]  # (run_id, task_id, map_index)


@dataclass(frozen=True)
class MarkedClear:
    """One clear a marker asks for: a task and its downstream in one run of another DAG."""

    dag_id: str
    run_id: str
    task_id: str
    depth: int


def render_date(template: str, run: Any) -> datetime:
    """The marker's ``logical_date`` for a cleared run: a template over the run's dates (Airflow
    renders it with the task's context; the dates are what such templates use)."""
    import jinja2  # only when a marker is cleared

    logical_date = run.logical_date
    context = {
        "logical_date": logical_date,
        "execution_date": logical_date,
        "ds": logical_date.strftime("%Y-%m-%d") if logical_date else None,
        "ds_nodash": logical_date.strftime("%Y%m%d") if logical_date else None,
        "ts": logical_date.isoformat() if logical_date else None,
        "data_interval_start": run.data_interval_start,
        "data_interval_end": run.data_interval_end,
        "run_id": run.run_id,
    }
    text = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template).render(context)
    return datetime.fromisoformat(text)


def plan(
    gateway: StoreGateway,
    dag: SerializedDAG,
    cleared: list[Key],
    *,
    only_failed: bool,
) -> list[MarkedClear]:
    """The clears the markers among ``cleared`` (instances of ``dag``) lead to, transitively, in
    the order to carry them out. Raises TradewindError for a marked run that is running, a
    missing DAG or a chain deeper than allowed."""
    found: list[MarkedClear] = []
    visited: set[tuple[str, str, str]] = set()
    max_depth: int | None = None
    pending: list[tuple[SerializedDAG, list[Key], int]] = [(dag, cleared, 0)]
    while pending:
        current, keys, depth = pending.pop(0)
        for run_id, task_id, _ in keys:
            task = current.task_dict.get(task_id)
            marker = task.external_marker if task is not None else None
            if marker is None or (current.dag_id, run_id, task_id) in visited:
                continue
            visited.add((current.dag_id, run_id, task_id))
            if max_depth is None:
                max_depth = marker["recursion_depth"]  # the first marker met sets the limit
            if depth + 1 > max_depth:
                raise TradewindError(
                    f"Maximum recursion depth {max_depth} reached for ExternalTaskMarker {task_id}. Attempted to "
                    "clear too many tasks or there may be a cyclic dependency: raise recursion_depth on the "
                    "first marker, or break the cycle"
                )
            with session_scope(gateway.engine) as session:
                run = q.get_dag_run(session, current.dag_id, run_id)
                target_date = render_date(marker["logical_date"], run) if run is not None else None
                target = q.dag_run_at(session, marker["dag_id"], target_date) if target_date else None
                target_run_id = target.run_id if target is not None else None
            if target_run_id is None:
                continue  # the other DAG has no run at that date: nothing to clear (as in Airflow)
            try:
                other = gateway.get_dag(marker["dag_id"])
            except TradewindError as exc:
                raise TradewindError(f"ExternalTaskMarker '{task_id}' of DAG '{current.dag_id}': {exc}") from None
            if marker["task_id"] not in other.task_dict:
                continue  # no instance of that task there (Airflow finds none and clears none)
            step = MarkedClear(other.dag_id, target_run_id, marker["task_id"], depth + 1)
            try:
                reached = _clear(gateway, other, step, only_failed=only_failed, dry_run=True)
            except TradewindError as exc:
                raise TradewindError(
                    f"ExternalTaskMarker '{task_id}' of DAG '{current.dag_id}' (run {run_id}) clears "
                    f"'{step.task_id}' in DAG '{other.dag_id}': {exc}"
                ) from None
            found.append(step)
            pending.append((other, reached, depth + 1))
    return found


def _clear(
    gateway: StoreGateway, dag: SerializedDAG, step: MarkedClear, *, only_failed: bool, dry_run: bool
) -> list[Key]:
    return gateway.clear(
        dag,
        run_id=step.run_id,
        task_regex=f"^{re.escape(step.task_id)}$",
        map_index=None,
        only_failed=only_failed,
        downstream=True,
        dry_run=dry_run,
        follow_markers=False,
    )


def carry_out(gateway: StoreGateway, steps: list[MarkedClear], *, only_failed: bool) -> list[tuple[str, str, str, int]]:
    """Clear what :func:`plan` found; returns (dag_id, run_id, task_id, map_index) reset."""
    reset: list[tuple[str, str, str, int]] = []
    for step in steps:
        dag = gateway.get_dag(step.dag_id)
        for run_id, task_id, map_index in _clear(gateway, dag, step, only_failed=only_failed, dry_run=False):
            reset.append((step.dag_id, run_id, task_id, map_index))
    return reset


def dry_run(gateway: StoreGateway, step: MarkedClear, *, only_failed: bool) -> list[Key]:
    """What one step would reset."""
    return _clear(gateway, gateway.get_dag(step.dag_id), step, only_failed=only_failed, dry_run=True)
