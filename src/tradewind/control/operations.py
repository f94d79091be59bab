"""The state-changing operations every front end uses (CLI, REST API, web UI): trigger a run,
pause or unpause a DAG, clear task instances, set a run's state.

They work over the store and the serialized DAGs (never a DAG file). Clearing goes through the
one clearing implementation, ``RunState.clear_instances`` via the scheduler's StoreGateway, as
``tasks clear`` does. Each operation raises a :class:`~tradewind.control.errors.ControlError`
subclass naming what was wrong. Example::

    run = trigger_run(engine, "etl", conf={"limit": 5})
    cleared = clear_task_instances(engine, "etl", run_id=run.run_id, task_ids=[("load", 3)], dry_run=False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, update

from tradewind.control.errors import Conflict, InvalidRequest, NotFound
from tradewind.definitions.serialized import SerializedDAG
from tradewind.definitions.states import FINISHED_STATES, DagRunState
from tradewind.errors import DagDefinitionError, DagNotFound, TradewindError
from tradewind.scheduler.persistence import StoreGateway
from tradewind.store import queries as q
from tradewind.store.engine import session_scope
from tradewind.store.models import DagModel, DagRun, TaskInstance

__all__ = [
    "PATCHABLE_RUN_STATES",
    "ClearedInstance",
    "clear_task_instances",
    "get_serialized_dag",
    "set_paused",
    "set_run_state",
    "trigger_run",
]

PATCHABLE_RUN_STATES = ("queued", "success", "failed")  # Airflow's DagRunMutableStates


@dataclass(frozen=True)
class ClearedInstance:
    """One task instance a clear resets (or would reset, in a dry run)."""

    run_id: str
    task_id: str
    map_index: int
    dag_id: str | None = None  # another DAG's instance, reached through an ExternalTaskMarker


def _now() -> datetime:
    return datetime.now(UTC)


def get_serialized_dag(engine: Engine, dag_id: str) -> SerializedDAG:
    """The newest stored version of an active DAG; NotFound otherwise."""
    try:
        return StoreGateway(engine).get_dag(dag_id)
    except DagNotFound as exc:
        raise NotFound(str(exc)) from None


def _run(engine: Engine, dag_id: str, run_id: str) -> DagRun:
    with session_scope(engine) as session:
        run = q.get_dag_run(session, dag_id, run_id)
        if run is None:
            if q.get_dag(session, dag_id) is None:
                raise NotFound(f"DAG '{dag_id}' not found")
            raise NotFound(str(q.DagRunNotFound(dag_id, run_id)))
        session.expunge(run)
        return run


def trigger_run(
    engine: Engine,
    dag_id: str,
    *,
    conf: Any = None,
    logical_date: datetime | None = None,
    run_id: str | None = None,
) -> DagRun:
    """Queue a manual run of the DAG's newest version; a running scheduler starts it.

    ``conf`` must be a JSON object; it overrides the DAG's params and must fit their types.
    ``logical_date`` defaults to now (a naive one is taken as UTC); ``run_id`` to
    ``manual__<logical date>``. Returns the run's row.
    """
    dag = get_serialized_dag(engine, dag_id)
    if conf is None:
        conf = {}
    if not isinstance(conf, dict):
        raise InvalidRequest(f'conf must be a JSON object (e.g. {{"limit": 5}}), got {type(conf).__name__}')
    if logical_date is not None and logical_date.tzinfo is None:
        logical_date = logical_date.replace(tzinfo=UTC)
    try:
        context = StoreGateway(engine).create_manual_run(dag, logical_date, dict(conf), run_id=run_id)
    except q.DagRunAlreadyExists as exc:
        raise Conflict(str(exc)) from None
    except DagDefinitionError as exc:
        raise InvalidRequest(f"conf does not fit the params of DAG '{dag_id}': {exc}") from None
    except (OverflowError, ValueError) as exc:  # the data interval around it leaves datetime's range
        raise InvalidRequest(
            f"logical_date {logical_date.isoformat() if logical_date else None} is too close to the limits "
            f"of the calendar for the schedule of DAG '{dag_id}' ({exc}); use a date between years 2 and 9998"
        ) from None
    except TradewindError as exc:
        raise InvalidRequest(str(exc)) from None
    return _run(engine, dag_id, context.run_id)


def set_paused(engine: Engine, dag_id: str, paused: bool) -> DagModel:
    """Pause (no new runs start) or unpause a DAG. Returns its row."""
    with session_scope(engine) as session:
        if not q.set_paused(session, dag_id, paused):
            raise NotFound(f"DAG '{dag_id}' not found")
        row = q.get_dag(session, dag_id)
        assert row is not None
        session.expunge(row)
        return row


TaskSelector = str | tuple[str, int] | Sequence[Any]


def _selection(dag: SerializedDAG, task_ids: Iterable[TaskSelector] | None) -> dict[str, set[int] | None]:
    """task_id -> map indexes to clear (None: all), from ``task_id`` or ``(task_id, map_index)`` items."""
    if task_ids is None:
        return dict.fromkeys(dag.task_dict)
    chosen: dict[str, set[int] | None] = {}
    for item in task_ids:
        if isinstance(item, str):
            task_id, index = item, None
        elif (
            isinstance(item, (tuple, list))
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], int)
            and not isinstance(item[1], bool)
        ):
            task_id, index = item[0], item[1]
        else:
            raise InvalidRequest(f"task_ids items must be a task id or a [task_id, map_index] pair, got {item!r}")
        if task_id not in dag.task_dict:
            import difflib

            close = difflib.get_close_matches(task_id, list(dag.task_dict), n=3)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise InvalidRequest(f"DAG '{dag.dag_id}' has no task '{task_id}'{hint}")
        if index is None or chosen.get(task_id, set()) is None:
            chosen[task_id] = None
        else:
            indexes = chosen.setdefault(task_id, set())
            assert indexes is not None
            indexes.add(index)
    return chosen


def clear_task_instances(
    engine: Engine,
    dag_id: str,
    *,
    run_id: str | None = None,
    task_ids: Iterable[TaskSelector] | None = None,
    map_indexes: Iterable[int] | None = None,
    only_failed: bool = False,
    include_downstream: bool = False,
    dry_run: bool = True,
) -> list[ClearedInstance]:
    """Reset task instances so the scheduler runs them again (their runs go back to queued).

    ``task_ids`` names tasks, or ``(task_id, map_index)`` pairs for single instances of mapped
    tasks (None: every task); ``map_indexes`` keeps only those indexes of the named tasks;
    ``only_failed`` only failed and upstream_failed instances; ``include_downstream`` also resets
    the tasks downstream of those chosen. A cleared ExternalTaskMarker clears its target in
    another DAG too (listed last, with its ``dag_id``). ``run_id`` limits it to one run (default: every finished
    run of the DAG; a running run is left alone, and naming one is a Conflict). With ``dry_run``
    nothing changes. Returns the instances reset, in run, task, map index order.
    """
    dag = get_serialized_dag(engine, dag_id)
    if run_id is not None:
        _run(engine, dag_id, run_id)
    selection = _selection(dag, task_ids)
    if map_indexes is not None:
        wanted = set(map_indexes)
        selection = {t: (wanted if chosen is None else chosen & wanted) for t, chosen in selection.items()}
    groups: dict[frozenset[int] | None, list[str]] = {}
    for task_id, chosen in selection.items():
        groups.setdefault(None if chosen is None else frozenset(chosen), []).append(task_id)
    gateway = StoreGateway(engine)
    found: dict[tuple[str, str, int], None] = {}
    marked: dict[tuple[str, str, str, int], None] = {}  # (dag_id, run_id, task_id, map_index)
    for indexes, tasks in groups.items():
        if indexes is not None and not indexes:
            continue
        pattern = "^(?:" + "|".join(re.escape(t) for t in tasks) + ")$"
        try:
            cleared = gateway.clear(
                dag,
                run_id=run_id,
                task_regex=pattern,
                map_index=indexes,
                only_failed=only_failed,
                downstream=include_downstream,
                dry_run=dry_run,
            )
        except TradewindError as exc:
            raise Conflict(str(exc)) from None
        found.update(dict.fromkeys(cleared))
        marked.update(dict.fromkeys(gateway.marked_cleared))
    return [ClearedInstance(*key) for key in sorted(found)] + [
        ClearedInstance(run, task, index, dag_id=other) for other, run, task, index in sorted(marked)
    ]


def set_run_state(engine: Engine, dag_id: str, run_id: str, state: str) -> DagRun:
    """Set a run's state as Airflow's "mark success/failed" and "queue up" do.

    ``success``: its unfinished instances become success; ``failed``: they become skipped;
    ``queued``: the run goes back to the scheduler, which finishes it again or runs what is
    left. Only a run the scheduler is not running (queued or finished) can be changed: the
    scheduler holds a running run in memory and is its only writer (a Conflict says so).
    """
    if state not in PATCHABLE_RUN_STATES:
        raise InvalidRequest(f"state must be one of {', '.join(PATCHABLE_RUN_STATES)}, got {state!r}")
    run = _run(engine, dag_id, run_id)
    if run.state == DagRunState.RUNNING:
        raise Conflict(
            f"run '{run_id}' of DAG '{dag_id}' is running and the scheduler owns its state: "
            "wait until it finishes, or clear its failed instances afterwards"
        )
    now = _now()
    unfinished = [str(s) for s in FINISHED_STATES]
    with session_scope(engine) as session:
        if state in ("success", "failed"):
            session.execute(
                update(TaskInstance)
                .where(
                    TaskInstance.dag_id == dag_id,
                    TaskInstance.run_id == run_id,
                    TaskInstance.state.is_(None) | TaskInstance.state.not_in(unfinished),
                )
                .values(state="success" if state == "success" else "skipped", end_date=now, next_retry_at=None),
                execution_options={"synchronize_session": False},
            )
            q.update_dag_run(session, dag_id, run_id, state=state, end_date=now)
        else:
            q.update_dag_run(session, dag_id, run_id, state=state, end_date=None, queued_at=now)
    return _run(engine, dag_id, run_id)
