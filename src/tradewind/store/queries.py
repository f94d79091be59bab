"""Small, typed query functions over the metadata store. Each takes a Session first and leaves
committing to the caller (see :func:`tradewind.store.engine.session_scope`).

Reads return model objects fresh from the database, even when the same session changed the rows
with a bulk statement before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from tradewind.definitions.states import DagRunState
from tradewind.errors import TradewindError
from tradewind.store.models import (
    ID_LENGTH,
    DagImportError,
    DagModel,
    DagRun,
    SlotPool,
    TaskInstance,
)
from tradewind.store.task_instances import (
    delete_task_instances,
    dialect_insert,
    get_xcoms,
    list_task_instances,
    page_task_instances,
    reset_task_instances,
    set_xcoms,
    upsert_task_instances,
)

__all__ = [
    "DagRunAlreadyExists",
    "DagRunNotFound",
    "create_dag_run",
    "delete_task_instances",
    "get_dag",
    "get_dag_run",
    "get_pools",
    "get_xcoms",
    "list_dag_runs",
    "list_dags",
    "list_import_errors",
    "list_task_instances",
    "page_task_instances",
    "reset_task_instances",
    "set_paused",
    "set_pool",
    "set_xcoms",
    "update_dag_run",
    "upsert_dag",
    "upsert_task_instances",
]

RUN_TYPES = ("scheduled", "manual", "backfill", "asset_triggered")


class DagRunAlreadyExists(TradewindError):
    """A run with this run_id already exists for the DAG."""

    def __init__(self, dag_id: str, run_id: str) -> None:
        self.dag_id, self.run_id = dag_id, run_id
        super().__init__(
            f"DAG '{dag_id}' already has a run with run_id '{run_id}'; "
            "choose another run id, or clear the existing run to run it again"
        )


class DagRunNotFound(TradewindError):
    """No run with this run_id exists for the DAG."""

    def __init__(self, dag_id: str, run_id: str) -> None:
        self.dag_id, self.run_id = dag_id, run_id
        super().__init__(f"DAG '{dag_id}' has no run with run_id '{run_id}'")


class _Unset:
    """Marks an argument that was not given (None is a value: it clears the column)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()


def _now() -> datetime:
    return datetime.now(UTC)


# --- DAGs ---------------------------------------------------------------------------------------


def upsert_dag(
    session: Session,
    *,
    dag_id: str,
    fileloc: str,
    schedule: str | None,
    tags: Sequence[str] = (),
    serialized: Mapping[str, Any] | None = None,
    max_active_runs: int = 16,
    is_paused_upon_creation: bool = False,
) -> DagModel:
    """Record a parsed DAG (insert, or refresh its fields; the pause flag of a known DAG is kept)."""
    now = _now()
    values = {
        "fileloc": fileloc,
        "schedule": schedule,
        "tags": list(tags),
        "serialized": dict(serialized) if serialized is not None else None,
        "max_active_runs": max_active_runs,
        "is_active": True,
        "last_parsed_at": now,
    }
    stmt = dialect_insert(session, DagModel).values(dag_id=dag_id, is_paused=is_paused_upon_creation, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=["dag_id"], set_=values))
    dag = get_dag(session, dag_id)
    assert dag is not None
    return dag


def get_dag(session: Session, dag_id: str) -> DagModel | None:
    """The DAG row with this id, or None."""
    return session.get(DagModel, dag_id, populate_existing=True)


def list_dags(session: Session, *, only_active: bool = False) -> list[DagModel]:
    """All DAG rows (or only those whose file still defines them), ordered by dag_id."""
    query = select(DagModel).order_by(DagModel.dag_id).execution_options(populate_existing=True)
    if only_active:
        query = query.where(DagModel.is_active.is_(True))
    return list(session.scalars(query))


def set_paused(session: Session, dag_id: str, paused: bool) -> bool:
    """Pause or unpause a DAG; False when no such DAG is recorded."""
    result = session.execute(
        update(DagModel).where(DagModel.dag_id == dag_id).values(is_paused=paused, updated_at=_now()),
        execution_options={"synchronize_session": False},
    )
    return bool(getattr(result, "rowcount", 0))


# --- import errors (written per file by the DAG processor: store/dag_versions.py) -------------


def list_import_errors(session: Session) -> list[DagImportError]:
    """The recorded import errors, ordered by file name."""
    query = select(DagImportError).order_by(DagImportError.filename, DagImportError.id)
    return list(session.scalars(query.execution_options(populate_existing=True)))


# --- DAG runs -----------------------------------------------------------------------------------


def create_dag_run(
    session: Session,
    *,
    dag_id: str,
    run_id: str,
    logical_date: datetime | None,
    data_interval_start: datetime | None,
    data_interval_end: datetime | None,
    run_type: str,
    conf: Mapping[str, Any] | None = None,
    state: str = DagRunState.QUEUED,
    dag_hash: str | None = None,
    run_after: datetime | None = None,
) -> DagRun:
    """Insert a queued run; raises :class:`DagRunAlreadyExists` when the DAG already has this run_id.
    ``logical_date`` None: a run without one (any number of those may exist); ``run_after``
    defaults to the logical date."""
    if run_type not in RUN_TYPES:
        raise TradewindError(f"run_type must be one of {', '.join(RUN_TYPES)}, got {run_type!r}")
    if not run_id or len(run_id) > ID_LENGTH:
        raise TradewindError(f"run_id must be 1 to {ID_LENGTH} characters long, got {len(run_id)}")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in run_id):
        raise TradewindError(f"run_id {run_id!r} contains a control character: use printable characters only")
    stmt = (
        dialect_insert(session, DagRun)
        .values(
            dag_id=dag_id,
            run_id=run_id,
            logical_date=logical_date,
            run_after=run_after or logical_date,
            data_interval_start=data_interval_start,
            data_interval_end=data_interval_end,
            run_type=run_type,
            conf=dict(conf or {}),
            state=str(DagRunState(state)),
            queued_at=_now(),
            dag_hash=dag_hash,
        )
        .on_conflict_do_nothing(index_elements=["dag_id", "run_id"])
        .returning(DagRun.id)
    )
    new_id = session.execute(stmt).scalar_one_or_none()
    if new_id is None:
        raise DagRunAlreadyExists(dag_id, run_id)
    run = session.get(DagRun, new_id)
    assert run is not None
    return run


def get_dag_run(session: Session, dag_id: str, run_id: str) -> DagRun | None:
    """The run of ``dag_id`` with this run_id, or None."""
    query = select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def list_dag_runs(
    session: Session,
    dag_id: str | None,
    states: Iterable[str] | None = None,
    *,
    oldest_first: bool = False,
) -> list[DagRun]:
    """Runs of one DAG (or of every DAG when ``dag_id`` is None), optionally in ``states``; newest
    first, by logical date (a run without one: by ``run_after``, its trigger time)."""
    query = select(DagRun)
    if dag_id is not None:
        query = query.where(DagRun.dag_id == dag_id)
    if states is not None:
        query = query.where(DagRun.state.in_([str(DagRunState(s)) for s in states]))
    when = func.coalesce(DagRun.logical_date, DagRun.run_after)
    order: list[ColumnElement[Any]] = [when.asc(), DagRun.id.asc()] if oldest_first else [when.desc(), DagRun.id.desc()]
    return list(session.scalars(query.order_by(*order).execution_options(populate_existing=True)))


def update_dag_run(
    session: Session,
    dag_id: str,
    run_id: str,
    *,
    state: str | _Unset = UNSET,
    start_date: datetime | _Unset | None = UNSET,
    end_date: datetime | _Unset | None = UNSET,
    queued_at: datetime | _Unset | None = UNSET,
    conf: Mapping[str, Any] | _Unset = UNSET,
) -> DagRun:
    """Change the given fields of a run (None clears a date); raises :class:`DagRunNotFound`."""
    run = get_dag_run(session, dag_id, run_id)
    if run is None:
        raise DagRunNotFound(dag_id, run_id)
    if not isinstance(state, _Unset):
        run.state = str(DagRunState(state))
    if not isinstance(start_date, _Unset):
        run.start_date = start_date
    if not isinstance(end_date, _Unset):
        run.end_date = end_date
    if not isinstance(queued_at, _Unset):
        run.queued_at = queued_at
    if not isinstance(conf, _Unset):
        run.conf = dict(conf)
    session.flush()
    return run


def run_row(context: Any, dag_hash: str | None) -> dict[str, Any]:
    """The values of a new queued run (for :func:`insert_runs`)."""
    return {
        "dag_id": context.dag_id,
        "run_id": context.run_id,
        "logical_date": context.logical_date,
        "run_after": context.run_after or context.logical_date,
        "data_interval_start": context.data_interval_start,
        "data_interval_end": context.data_interval_end,
        "run_type": context.run_type,
        "conf": dict(context.conf or {}),
        "state": str(DagRunState.QUEUED),
        "queued_at": _now(),
        "dag_hash": dag_hash,
    }


def insert_runs(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert queued runs in one statement; a run_id the DAG already has is left as it is."""
    if rows:
        stmt = dialect_insert(session, DagRun).on_conflict_do_nothing(index_elements=["dag_id", "run_id"])
        session.execute(stmt, list(rows))


def count_active_runs(session: Session, dag_ids: Sequence[str]) -> dict[str, int]:
    """dag_id -> number of queued or running runs, for ``dag_ids``."""
    found: dict[str, int] = {}
    for start in range(0, len(dag_ids), 500):
        query = (
            select(DagRun.dag_id, func.count())
            .where(DagRun.dag_id.in_(dag_ids[start : start + 500]), DagRun.state.in_(["queued", "running"]))
            .group_by(DagRun.dag_id)
        )
        found.update({dag_id: int(n) for dag_id, n in session.execute(query)})
    return found


def dag_schedule_rows(session: Session, dag_ids: Sequence[str]) -> list[Any]:
    """Pause flag, activity and last scheduled interval of ``dag_ids``."""
    found: list[Any] = []
    for start in range(0, len(dag_ids), 500):
        query = select(
            DagModel.dag_id,
            DagModel.is_paused,
            DagModel.is_active,
            DagModel.next_dagrun_data_interval_start,
            DagModel.next_dagrun_data_interval_end,
        ).where(DagModel.dag_id.in_(dag_ids[start : start + 500]))
        found.extend(session.execute(query))
    return found


def update_dag_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Update DAG rows by dag_id (each row names the columns it sets), in few statements."""
    by_shape: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        by_shape.setdefault(tuple(sorted(row)), []).append(row)
    for shape_rows in by_shape.values():
        session.execute(update(DagModel), list(shape_rows))


# --- pools --------------------------------------------------------------------------------------


def get_pools(session: Session) -> list[SlotPool]:
    """Every pool, ordered by name (``default_pool`` always exists)."""
    query = select(SlotPool).order_by(SlotPool.name).execution_options(populate_existing=True)
    return list(session.scalars(query))


def set_pool(session: Session, name: str, slots: int, description: str | None = None) -> SlotPool:
    """Create a pool or change its slots (and description, when given)."""
    if slots < 0:
        raise TradewindError(f"pool '{name}' needs 0 or more slots, got {slots}")
    values: dict[str, Any] = {"slots": slots}
    if description is not None:
        values["description"] = description
    stmt = dialect_insert(session, SlotPool).values(name=name, description=description, slots=slots)
    session.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=values))
    pool = session.get(SlotPool, name, populate_existing=True)
    assert pool is not None
    return pool


# --- depends_on_past (scheduler/past.py) ---------------------------------------------------------


def previous_dag_run(session: Session, dag_id: str, logical_date: datetime, *, skip_manual: bool) -> DagRun | None:
    """The run of ``dag_id`` with the latest logical date before ``logical_date`` (manual runs left
    out with ``skip_manual``): Airflow's previous run, for depends_on_past."""
    query = select(DagRun).where(DagRun.dag_id == dag_id, DagRun.logical_date < logical_date)
    if skip_manual:
        query = query.where(DagRun.run_type != "manual")
    return session.scalars(query.order_by(DagRun.logical_date.desc()).limit(1)).first()


def task_state_counts(session: Session, dag_id: str, run_id: str) -> dict[str, dict[str | None, int]]:
    """Per task of one run: how many instances are in each state (None: not started)."""
    query = (
        select(TaskInstance.task_id, TaskInstance.state, func.count())
        .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        .group_by(TaskInstance.task_id, TaskInstance.state)
    )
    counts: dict[str, dict[str | None, int]] = {}
    for task_id, state, n in session.execute(query):
        counts.setdefault(task_id, {})[state] = n
    return counts


def dag_run_at(session: Session, dag_id: str, logical_date: datetime) -> DagRun | None:
    """The run of ``dag_id`` at ``logical_date``, if any (an ExternalTaskMarker's target)."""
    query = select(DagRun).where(DagRun.dag_id == dag_id, DagRun.logical_date == logical_date).limit(1)
    return session.scalars(query).first()
