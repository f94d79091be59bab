"""What the browser UI reads: the DAG list with recent runs, the grid of runs by tasks as counts
per state, and one page of a mapped task's instances filtered by state and label.

Counts are worked out by the database (``GROUP BY``), and instances come a page at a time, so a
run with 10,000 mapped instances costs the UI one small query per view, not 10,000 objects.
Every function returns plain rows (dataclasses), never ORM objects.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from tradewind import serde
from tradewind.store.models import DagModel, DagRun, TaskInstance, XCom

MAX_PAGE = 500  # instances on one page of the UI


@dataclass(frozen=True)
class DagRow:
    dag_id: str
    fileloc: str
    schedule: str | None
    tags: list[str]
    is_paused: bool
    next_dagrun: datetime | None


@dataclass(frozen=True)
class RunRow:
    dag_id: str
    run_id: str
    state: str
    run_type: str
    logical_date: datetime | None  # None: an Airflow 3 trigger without one
    start_date: datetime | None
    end_date: datetime | None
    conf: dict[str, Any]
    dag_hash: str | None


@dataclass(frozen=True)
class InstanceRow:
    task_id: str
    map_index: int
    state: str | None
    try_number: int
    max_tries: int
    start_date: datetime | None
    end_date: datetime | None
    duration: float | None
    label: str | None
    error: str | None
    hostname: str | None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def dag_page(session: Session, *, search: str = "", limit: int = 100, offset: int = 0) -> tuple[list[DagRow], int]:
    """One page of the active DAGs ordered by dag_id (those whose id contains ``search``), and
    how many there are in all."""
    where: list[ColumnElement[bool]] = [DagModel.is_active.is_(True)]
    if search:
        where.append(DagModel.dag_id.like(f"%{_escape_like(search)}%", escape="\\"))
    total = session.execute(select(func.count()).select_from(DagModel).where(*where)).scalar_one()
    query = (
        select(
            DagModel.dag_id,
            DagModel.fileloc,
            DagModel.schedule,
            DagModel.tags,
            DagModel.is_paused,
            DagModel.next_dagrun,
        )
        .where(*where)
        .order_by(DagModel.dag_id)
        .limit(limit)
        .offset(offset)
    )
    rows = [DagRow(r[0], r[1], r[2], list(r[3] or []), bool(r[4]), r[5]) for r in session.execute(query)]
    return rows, int(total)


def dag_row(session: Session, dag_id: str) -> DagRow | None:
    """The DAG row with this id (active or not), or None."""
    r = session.execute(
        select(
            DagModel.dag_id,
            DagModel.fileloc,
            DagModel.schedule,
            DagModel.tags,
            DagModel.is_paused,
            DagModel.next_dagrun,
        ).where(DagModel.dag_id == dag_id)
    ).one_or_none()
    return DagRow(r[0], r[1], r[2], list(r[3] or []), bool(r[4]), r[5]) if r is not None else None


_WHEN = func.coalesce(DagRun.logical_date, DagRun.run_after)  # a run without a logical date: when triggered


def _run_row(run: DagRun) -> RunRow:
    return RunRow(
        run.dag_id,
        run.run_id,
        run.state,
        run.run_type,
        run.logical_date,
        run.start_date,
        run.end_date,
        dict(run.conf or {}),
        run.dag_hash,
    )


def recent_runs(session: Session, dag_ids: Sequence[str], per_dag: int = 5) -> dict[str, list[RunRow]]:
    """dag_id -> its newest ``per_dag`` runs, newest first (one query per 500 DAGs)."""
    found: dict[str, list[RunRow]] = {dag_id: [] for dag_id in dag_ids}
    for start in range(0, len(dag_ids), 500):
        position = (
            func.row_number()
            .over(partition_by=DagRun.dag_id, order_by=(_WHEN.desc(), DagRun.id.desc()))
            .label("position")
        )
        ranked = select(DagRun.id, position).where(DagRun.dag_id.in_(dag_ids[start : start + 500])).subquery()
        query = (
            select(DagRun)
            .join(ranked, ranked.c.id == DagRun.id)
            .where(ranked.c.position <= per_dag)
            .order_by(DagRun.dag_id, _WHEN.desc(), DagRun.id.desc())
        )
        for run in session.scalars(query.execution_options(populate_existing=True)):
            found[run.dag_id].append(_run_row(run))
    return found


def grid_runs(session: Session, dag_id: str, limit: int = 25) -> list[RunRow]:
    """The newest ``limit`` runs of a DAG, oldest first (the grid's columns, left to right)."""
    query = (
        select(DagRun)
        .where(DagRun.dag_id == dag_id)
        .order_by(_WHEN.desc(), DagRun.id.desc())
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    return [_run_row(run) for run in reversed(list(session.scalars(query)))]


def get_run(session: Session, dag_id: str, run_id: str) -> RunRow | None:
    run = session.scalars(
        select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id).execution_options(populate_existing=True)
    ).one_or_none()
    return _run_row(run) if run is not None else None


@dataclass(frozen=True)
class CellCounts:
    """The instances of one task in one run: how many are in each state (None: no state yet)."""

    counts: dict[str | None, int]
    mapped: bool  # instances with a map index >= 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def state(self) -> str | None:
        """One state for the cell: the most pressing one of its instances."""
        for state in ("failed", "upstream_failed", "running", "up_for_retry", "queued", "scheduled", None):
            if self.counts.get(state):
                return state
        for state in ("success", "skipped", "removed"):
            if self.counts.get(state):
                return state
        return next(iter(self.counts), None)


def grid_counts(session: Session, dag_id: str, run_ids: Collection[str]) -> dict[tuple[str, str], CellCounts]:
    """(run_id, task_id) -> counts per state of its instances, for ``run_ids`` (one GROUP BY)."""
    if not run_ids:
        return {}
    query = (
        select(
            TaskInstance.run_id,
            TaskInstance.task_id,
            TaskInstance.state,
            func.count(),
            func.max(TaskInstance.map_index),
        )
        .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id.in_(list(run_ids)))
        .group_by(TaskInstance.run_id, TaskInstance.task_id, TaskInstance.state)
    )
    counts: dict[tuple[str, str], dict[str | None, int]] = {}
    mapped: dict[tuple[str, str], bool] = {}
    for run_id, task_id, state, n, top_index in session.execute(query):
        counts.setdefault((run_id, task_id), {})[state] = int(n)
        mapped[(run_id, task_id)] = mapped.get((run_id, task_id), False) or top_index >= 0
    return {key: CellCounts(value, mapped[key]) for key, value in counts.items()}


def _instance_filter(
    dag_id: str,
    run_id: str,
    task_id: str,
    states: Collection[str | None] | None,
    label: str,
    map_index: int | None,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
        TaskInstance.dag_id == dag_id,
        TaskInstance.run_id == run_id,
        TaskInstance.task_id == task_id,
    ]
    if states is not None:
        named = [s for s in states if s is not None]
        condition = TaskInstance.state.in_(named)
        where.append(or_(condition, TaskInstance.state.is_(None)) if None in states else condition)
    if label:
        where.append(TaskInstance.rendered_map_index.like(f"%{_escape_like(label)}%", escape="\\"))
    if map_index is not None:
        where.append(TaskInstance.map_index == map_index)
    return where


def instance_page(
    session: Session,
    dag_id: str,
    run_id: str,
    task_id: str,
    *,
    states: Collection[str | None] | None = None,
    label: str = "",
    map_index: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[InstanceRow], int]:
    """One page of a task's instances in a run, by map index: only those in ``states`` (None for
    "no state yet"), whose label contains ``label``, at ``map_index``; and how many match in all."""
    limit = max(1, min(limit, MAX_PAGE))
    where = _instance_filter(dag_id, run_id, task_id, states, label, map_index)
    total = session.execute(select(func.count()).select_from(TaskInstance).where(*where)).scalar_one()
    query = (
        select(
            TaskInstance.task_id,
            TaskInstance.map_index,
            TaskInstance.state,
            TaskInstance.try_number,
            TaskInstance.max_tries,
            TaskInstance.start_date,
            TaskInstance.end_date,
            TaskInstance.duration,
            TaskInstance.rendered_map_index,
            TaskInstance.error,
            TaskInstance.hostname,
        )
        .where(*where)
        .order_by(TaskInstance.map_index)
        .limit(limit)
        .offset(max(0, offset))
    )
    return [InstanceRow(*r) for r in session.execute(query)], int(total)


def instance_state_counts(session: Session, dag_id: str, run_id: str, task_id: str) -> dict[str | None, int]:
    """state -> how many of the task's instances in the run are in it."""
    query = (
        select(TaskInstance.state, func.count())
        .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id, TaskInstance.task_id == task_id)
        .group_by(TaskInstance.state)
    )
    return {state: int(n) for state, n in session.execute(query)}


def get_instance(session: Session, dag_id: str, run_id: str, task_id: str, map_index: int) -> InstanceRow | None:
    rows, _ = instance_page(session, dag_id, run_id, task_id, map_index=map_index, limit=1)
    return rows[0] if rows else None


def instance_xcoms(session: Session, dag_id: str, run_id: str, task_id: str, map_index: int) -> dict[str, Any]:
    """key -> value of the XComs one task instance pushed (values decoded as they were stored)."""
    query = (
        select(XCom.key, XCom.value)
        .where(XCom.dag_id == dag_id, XCom.run_id == run_id, XCom.task_id == task_id, XCom.map_index == map_index)
        .order_by(XCom.key)
    )
    return {key: serde.decode(value) for key, value in session.execute(query)}


@dataclass(frozen=True)
class Neighbours:
    """Map indexes to step to from one instance of a mapped task (None: there is none)."""

    previous: int | None
    next: int | None
    next_failed: int | None  # after this one, else from the start; never this one


def neighbours(session: Session, dag_id: str, run_id: str, task_id: str, map_index: int) -> Neighbours:
    same = (TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id, TaskInstance.task_id == task_id)
    failed = TaskInstance.state.in_(["failed", "upstream_failed"])

    def one(aggregate: Any, *where: ColumnElement[bool]) -> int | None:
        found = session.execute(select(aggregate).where(*same, TaskInstance.map_index >= 0, *where)).scalar()
        return int(found) if found is not None else None

    index = TaskInstance.map_index
    after = one(func.min(index), failed, index > map_index)
    return Neighbours(
        previous=one(func.max(index), index < map_index),
        next=one(func.min(index), index > map_index),
        next_failed=after if after is not None else one(func.min(index), failed, index < map_index),
    )
