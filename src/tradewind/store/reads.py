"""What the REST API reads: pages of DAGs, runs, task instances, XComs and import errors with
Airflow's filters, and how many match in all; counts of instances per task and state.

Each function takes a Session first, returns model objects (or plain tuples for counts), and
leaves the transaction to the caller. Every list is ordered and paged by the database.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tradewind import serde
from tradewind.store.models import (
    DagImportError,
    DagModel,
    DagRun,
    SerializedDagModel,
    StoredConnection,
    StoredVariable,
    TaskInstance,
    XCom,
)
from tradewind.store.task_instances import page_task_instances

__all__ = [
    "CONNECTION_ORDER",
    "DAG_ORDER",
    "RUN_ORDER",
    "VARIABLE_ORDER",
    "count_states",
    "get_import_error",
    "import_error_files",
    "in_flight_by_task",
    "page_connections",
    "page_dag_runs",
    "page_dags",
    "page_import_errors",
    "page_task_instances",
    "page_task_instances_across_runs",
    "page_variables",
    "page_xcoms",
    "version_history",
]

# the columns a caller may sort by (Airflow's order_by names; "-name" for descending)
DAG_ORDER = {
    "dag_id": DagModel.dag_id,
    "last_parsed_time": DagModel.last_parsed_at,
    "next_dagrun": DagModel.next_dagrun,
}
RUN_ORDER = {
    "id": DagRun.id,
    "run_id": DagRun.run_id,
    "dag_run_id": DagRun.run_id,
    "state": DagRun.state,
    "logical_date": DagRun.logical_date,
    "run_after": DagRun.run_after,
    "start_date": DagRun.start_date,
    "end_date": DagRun.end_date,
    "queued_at": DagRun.queued_at,
    "run_type": DagRun.run_type,
}
# Airflow's names for variables and connections ("id" is their surrogate key; tradewind's key is the name)
VARIABLE_ORDER = {
    "key": StoredVariable.key,
    "id": StoredVariable.key,
    "_val": StoredVariable.val,
    "description": StoredVariable.description,
}
CONNECTION_ORDER = {
    "connection_id": StoredConnection.conn_id,
    "conn_id": StoredConnection.conn_id,
    "id": StoredConnection.conn_id,
    "conn_type": StoredConnection.conn_type,
    "description": StoredConnection.description,
    "host": StoredConnection.host,
    "port": StoredConnection.port,
}


class UnknownOrder(ValueError):
    """An order_by name that is not one of the sortable columns."""


def _order(columns: dict[str, Any], order_by: Sequence[str], default: Sequence[str]) -> list[ColumnElement[Any]]:
    found: list[ColumnElement[Any]] = []
    for name in order_by or default:
        descending = name.startswith("-")
        column = columns.get(name.lstrip("-"))
        if column is None:
            raise UnknownOrder(
                f"order_by {name!r} is not allowed; use one of: {', '.join(sorted(columns))} (prefix - for descending)"
            )
        found.append(column.desc() if descending else column.asc())
    return found


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _page(session: Session, query: Select[Any], limit: int, offset: int) -> tuple[list[Any], int]:
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = list(session.scalars(query.limit(limit).offset(offset).execution_options(populate_existing=True)))
    return rows, int(total)


def page_dags(
    session: Session,
    *,
    limit: int,
    offset: int = 0,
    tags: Collection[str] = (),
    tags_match_all: bool = False,
    dag_id_pattern: str | None = None,
    dag_id_prefix: str | None = None,
    paused: bool | None = None,
    only_active: bool = True,
    order_by: Sequence[str] = (),
) -> tuple[list[DagModel], int]:
    """A page of DAG rows and how many match: by tags (any, or all), a case-insensitive
    substring or an exact prefix of the dag_id, the pause flag, and (by default) only active ones."""
    query = select(DagModel)
    if only_active:
        query = query.where(DagModel.is_active.is_(True))
    if paused is not None:
        query = query.where(DagModel.is_paused.is_(paused))
    if dag_id_pattern:
        query = query.where(DagModel.dag_id.ilike(_like(dag_id_pattern), escape="\\"))
    if dag_id_prefix:
        query = query.where(func.substr(DagModel.dag_id, 1, len(dag_id_prefix)) == dag_id_prefix)
    query = query.order_by(*_order(DAG_ORDER, order_by, ["dag_id"]), DagModel.dag_id)
    if not tags:
        return _page(session, query, limit, offset)
    # tags are a JSON list per DAG (no tag table): filtered here, over the rows the query kept
    wanted = set(tags)
    rows = [
        r
        for r in session.scalars(query.execution_options(populate_existing=True))
        if (wanted <= set(r.tags or []) if tags_match_all else wanted & set(r.tags or []))
    ]
    return rows[offset : offset + limit], len(rows)


def page_dag_runs(
    session: Session,
    dag_id: str | None,
    *,
    limit: int,
    offset: int = 0,
    states: Collection[str] = (),
    run_types: Collection[str] = (),
    logical_date_gte: datetime | None = None,
    logical_date_lte: datetime | None = None,
    run_id_pattern: str | None = None,
    order_by: Sequence[str] = (),
) -> tuple[list[DagRun], int]:
    """A page of runs of one DAG (or of every DAG when ``dag_id`` is None) and how many match."""
    query = select(DagRun)
    if dag_id is not None:
        query = query.where(DagRun.dag_id == dag_id)
    if states:
        query = query.where(DagRun.state.in_(list(states)))
    if run_types:
        query = query.where(DagRun.run_type.in_(list(run_types)))
    if logical_date_gte is not None:
        query = query.where(DagRun.logical_date >= logical_date_gte)
    if logical_date_lte is not None:
        query = query.where(DagRun.logical_date <= logical_date_lte)
    if run_id_pattern:
        query = query.where(DagRun.run_id.ilike(_like(run_id_pattern), escape="\\"))
    order = _order(RUN_ORDER, order_by, ["id"])
    return _page(session, query.order_by(*order, DagRun.id), limit, offset)


def page_import_errors(session: Session, *, limit: int, offset: int = 0) -> tuple[list[DagImportError], int]:
    """A page of import errors, by id, and how many there are."""
    return _page(session, select(DagImportError).order_by(DagImportError.id), limit, offset)


def page_xcoms(
    session: Session,
    dag_id: str,
    run_id: str,
    task_id: str,
    *,
    limit: int,
    offset: int = 0,
    key: str | None = None,
    map_index: int | None = None,
) -> tuple[list[XCom], int]:
    """A page of one task's XComs in a run (every map index unless one is given), with their
    stored values decoded (:func:`tradewind.serde.decode`), and how many match."""
    query = select(XCom).where(XCom.dag_id == dag_id, XCom.run_id == run_id, XCom.task_id == task_id)
    if key is not None:
        query = query.where(XCom.key == key)
    if map_index is not None:
        query = query.where(XCom.map_index == map_index)
    rows, total = _page(session, query.order_by(XCom.map_index, XCom.key), limit, offset)
    for row in rows:
        set_committed_value(row, "value", serde.decode(row.value))
    return rows, total


def count_states(session: Session, dag_id: str, run_id: str) -> dict[str, dict[str | None, int]]:
    """task_id -> {state: number of instances} for one run (None: no state yet)."""
    query = (
        select(TaskInstance.task_id, TaskInstance.state, func.count())
        .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        .group_by(TaskInstance.task_id, TaskInstance.state)
    )
    found: dict[str, dict[str | None, int]] = {}
    for task_id, state, count in session.execute(query):
        found.setdefault(task_id, {})[state] = int(count)
    return found


def in_flight_by_task(session: Session) -> list[tuple[str, str, str | None, str | None, int]]:
    """(dag_id, task_id, dag_hash of the run, state, count) of instances scheduled, queued or
    running: what occupies (or waits for) pool slots."""
    query = (
        select(TaskInstance.dag_id, TaskInstance.task_id, DagRun.dag_hash, TaskInstance.state, func.count())
        .join(DagRun, (DagRun.dag_id == TaskInstance.dag_id) & (DagRun.run_id == TaskInstance.run_id))
        .where(or_(TaskInstance.state == "running", TaskInstance.state == "queued", TaskInstance.state == "scheduled"))
        .group_by(TaskInstance.dag_id, TaskInstance.task_id, DagRun.dag_hash, TaskInstance.state)
    )
    return [(r[0], r[1], r[2], r[3], int(r[4])) for r in session.execute(query)]


def page_task_instances_across_runs(
    session: Session,
    dag_id: str | None,
    *,
    limit: int,
    offset: int = 0,
    states: Collection[str | None] | None = None,
    task_id: str | None = None,
    map_indexes: Collection[int] | None = None,
) -> tuple[list[tuple[TaskInstance, DagRun]], int]:
    """A page of task instances of every run of one DAG (or of every DAG when None), each with
    its run, newest runs first, and how many match."""
    query = select(TaskInstance, DagRun).join(
        DagRun, (DagRun.dag_id == TaskInstance.dag_id) & (DagRun.run_id == TaskInstance.run_id)
    )
    if dag_id is not None:
        query = query.where(TaskInstance.dag_id == dag_id)
    if task_id is not None:
        query = query.where(TaskInstance.task_id == task_id)
    if map_indexes is not None:
        query = query.where(TaskInstance.map_index.in_(list(map_indexes)))
    if states is not None:
        named = TaskInstance.state.in_([s for s in states if s is not None])
        query = query.where(or_(named, TaskInstance.state.is_(None)) if None in states else named)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    ordered = query.order_by(
        func.coalesce(DagRun.logical_date, DagRun.run_after).desc(),
        DagRun.id.desc(),
        TaskInstance.task_id,
        TaskInstance.map_index,
    )
    rows = session.execute(ordered.limit(limit).offset(offset).execution_options(populate_existing=True))
    return [(row[0], row[1]) for row in rows], int(total)


def import_error_files(session: Session) -> set[str]:
    """The files that have an import error."""
    return set(session.scalars(select(DagImportError.filename)))


def get_import_error(session: Session, import_error_id: int) -> DagImportError | None:
    return session.get(DagImportError, import_error_id, populate_existing=True)


def version_history(session: Session, dag_ids: Collection[str]) -> dict[str, tuple[int, datetime]]:
    """dag_hash -> (version number, created at) of every stored version of ``dag_ids``."""
    if not dag_ids:
        return {}
    rows = session.execute(
        select(SerializedDagModel.dag_hash, SerializedDagModel.version_number, SerializedDagModel.created_at).where(
            SerializedDagModel.dag_id.in_(list(dag_ids))
        )
    )
    return {digest: (number, created) for digest, number, created in rows}


def page_variables(
    session: Session,
    *,
    limit: int,
    offset: int,
    key_pattern: str | None = None,
    key_prefix: str | None = None,
    order_by: Sequence[str] = (),
) -> tuple[list[StoredVariable], int]:
    """Variables in the store (never the environment's), filtered by a case-insensitive
    substring and/or a (case-sensitive) prefix of the key, ordered by ``order_by`` (default: key)."""
    query = select(StoredVariable)
    if key_pattern:
        query = query.where(StoredVariable.key.ilike(_like(key_pattern), escape="\\"))
    if key_prefix:
        query = query.where(func.substr(StoredVariable.key, 1, len(key_prefix)) == key_prefix)
    query = query.order_by(*_order(VARIABLE_ORDER, order_by, ["key"]), StoredVariable.key)
    return _page(session, query, limit, offset)


def page_connections(
    session: Session,
    *,
    limit: int,
    offset: int,
    id_pattern: str | None = None,
    id_prefix: str | None = None,
    order_by: Sequence[str] = (),
) -> tuple[list[StoredConnection], int]:
    """Connections in the store (never the environment's), filtered like :func:`page_variables`."""
    query = select(StoredConnection)
    if id_pattern:
        query = query.where(StoredConnection.conn_id.ilike(_like(id_pattern), escape="\\"))
    if id_prefix:
        query = query.where(func.substr(StoredConnection.conn_id, 1, len(id_prefix)) == id_prefix)
    query = query.order_by(*_order(CONNECTION_ORDER, order_by, ["connection_id"]), StoredConnection.conn_id)
    return _page(session, query, limit, offset)
