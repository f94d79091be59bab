"""Query functions for task instances and XComs: batched writes, one statement per call.

Re-exported by :mod:`tradewind.store.queries`, which is where callers import them from.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tradewind import serde
from tradewind.definitions.states import TaskInstanceState
from tradewind.errors import TradewindError, XComValueError
from tradewind.store.models import UNMAPPED, TaskInstance, XCom

TI_TABLE: Table = TaskInstance.__table__  # type: ignore[assignment]
XCOM_TABLE: Table = XCom.__table__  # type: ignore[assignment]
TI_KEY = ("dag_id", "run_id", "task_id", "map_index")
XCOM_KEY = (*TI_KEY, "key")
RETURN_VALUE = "return_value"
# what clearing an instance forgets: it will be scheduled again as if new (try_number is kept)
RESET_COLUMNS = (
    "state",
    "start_date",
    "end_date",
    "duration",
    "hostname",
    "pid",
    "rendered_map_index",
    "queued_at",
    "heartbeat_at",
    "next_retry_at",
    "error",
)


def dialect_insert(session: Session, target: Any) -> Any:
    """``INSERT`` into a model or table with the dialect's ``ON CONFLICT`` clauses (SQLite or PostgreSQL)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(target)
    if name == "sqlite":
        return sqlite.insert(target)
    raise TradewindError(f"the metadata store does not support the {name} database")


@functools.cache
def _upsert_statement(dialect: str, table: Table, key: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    # Built once per shape: constructing ``excluded`` column proxies is the costly part.
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    changing = [name for name in columns if name not in key]
    if changing:
        return stmt.on_conflict_do_update(
            index_elements=list(key), set_={name: stmt.excluded[name] for name in changing}
        )
    return stmt.on_conflict_do_nothing(index_elements=list(key))


def _upsert(session: Session, table: Table, key: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """Insert-or-update ``rows`` on the primary key: one executemany per distinct set of columns."""
    dialect_insert(session, table)  # refuses a database we do not support
    dialect = session.get_bind().dialect.name
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    connection = session.connection()  # Core execution: no ORM bookkeeping per batch
    for columns, group in groups.items():
        connection.execute(_upsert_statement(dialect, table, tuple(key), columns), group)


@functools.cache
def _known_columns(table: Table) -> frozenset[str]:
    return frozenset(table.c.keys())


def _check_columns(row: Mapping[str, Any], table: Table, key: Sequence[str], what: str) -> dict[str, Any]:
    unknown = row.keys() - _known_columns(table)
    if unknown:
        raise TradewindError(
            f"{what} row has unknown field(s) {sorted(unknown)}; known fields: {', '.join(table.c.keys())}"
        )
    values = dict(row)
    values.setdefault("map_index", UNMAPPED)
    missing = [name for name in key if values.get(name) is None]
    if missing:
        raise TradewindError(f"{what} row lacks its key field(s) {missing}: {dict(row)!r}")
    return values


def upsert_task_instances(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert task instances, or update the given fields of existing ones, in one batched statement.

    Each row is a dict of column values holding at least dag_id, run_id and task_id (map_index
    defaults to -1). Fields a row leaves out keep their stored value (or their default when new).
    Returns the number of rows written.
    """
    prepared = []
    for row in rows:
        values = _check_columns(row, TI_TABLE, TI_KEY, "task instance")
        if values.get("state") is not None:
            try:
                values["state"] = TaskInstanceState(values["state"]).value
            except ValueError:
                valid = ", ".join(state.value for state in TaskInstanceState)
                raise TradewindError(f"unknown task instance state {values['state']!r}; use one of: {valid}") from None
        prepared.append(values)
    if prepared:
        _upsert(session, TI_TABLE, TI_KEY, prepared)
    return len(prepared)


def list_task_instances(
    session: Session, dag_id: str, run_id: str, task_ids: Collection[str] | None = None
) -> list[TaskInstance]:
    """The task instances of one run (optionally only of ``task_ids``), ordered by task_id, map_index."""
    query = select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
    if task_ids is not None:
        query = query.where(TaskInstance.task_id.in_(list(task_ids)))
    query = query.order_by(TaskInstance.task_id, TaskInstance.map_index)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def page_task_instances(
    session: Session,
    dag_id: str,
    run_id: str,
    *,
    states: Collection[str | None] | None = None,
    task_id: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    map_indexes: Collection[int] | None = None,
) -> tuple[list[TaskInstance], int]:
    """One page of a run's task instances (ordered by task_id, map_index), optionally only those
    in ``states`` (None for "no state"), of ``task_id`` or at ``map_indexes``, and how many match in all."""
    where = [TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id]
    if task_id is not None:
        where.append(TaskInstance.task_id == task_id)
    if map_indexes is not None:
        where.append(TaskInstance.map_index.in_(list(map_indexes)))
    if states is not None:
        named = [s for s in states if s is not None]
        condition = TaskInstance.state.in_(named)
        where.append(or_(condition, TaskInstance.state.is_(None)) if None in states else condition)
    total = session.execute(select(func.count()).select_from(TaskInstance).where(*where)).scalar_one()
    query = select(TaskInstance).where(*where).order_by(TaskInstance.task_id, TaskInstance.map_index).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query.execution_options(populate_existing=True))), int(total)


def delete_task_instances(
    session: Session,
    dag_id: str,
    run_id: str,
    *,
    task_ids: Collection[str] | None = None,
    map_index: int | None = None,
) -> int:
    """Delete a run's task instances (all, or those of ``task_ids`` / at ``map_index``) with their XComs."""
    conditions = []
    for model in (XCom, TaskInstance):
        where = [model.dag_id == dag_id, model.run_id == run_id]
        if task_ids is not None:
            where.append(model.task_id.in_(list(task_ids)))
        if map_index is not None:
            where.append(model.map_index == map_index)
        conditions.append(where)
    options = {"synchronize_session": False}
    session.execute(delete(XCom).where(*conditions[0]), execution_options=options)
    result = session.execute(delete(TaskInstance).where(*conditions[1]), execution_options=options)
    return int(getattr(result, "rowcount", 0))


def reset_task_instances(session: Session, dag_id: str, run_id: str, keys: Iterable[tuple[str, int]]) -> None:
    """Clear instances ``(task_id, map_index)`` of a run so they run again: no state, dates or XComs."""
    params = [{"b_task_id": task_id, "b_map_index": map_index} for task_id, map_index in keys]
    if not params:
        return
    for table, values in ((XCOM_TABLE, None), (TI_TABLE, dict.fromkeys(RESET_COLUMNS))):
        where = (
            table.c.dag_id == dag_id,
            table.c.run_id == run_id,
            table.c.task_id == bindparam("b_task_id"),
            table.c.map_index == bindparam("b_map_index"),
        )
        stmt = delete(table).where(*where) if values is None else update(table).where(*where).values(values)
        session.execute(stmt, params)


# --- XComs --------------------------------------------------------------------------------------


def _encoded(row: Mapping[str, Any]) -> Any:
    """The stored (tagged JSON) form of the row's value, or XComValueError naming the task, type and place."""
    try:
        return serde.encode(row.get("value"))
    except XComValueError as exc:
        index = row.get("map_index", UNMAPPED)
        task = row["task_id"] if index is None or index < 0 else f"{row['task_id']}[{index}]"
        raise XComValueError(
            f"XCom '{row.get('key', RETURN_VALUE)}' of task '{task}' of DAG '{row['dag_id']}' "
            f"(run '{row['run_id']}'): {exc}"
        ) from None


def set_xcoms(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    """Store XCom values (dicts of dag_id, run_id, task_id, map_index, key, value), replacing old ones.

    ``key`` defaults to ``return_value`` and ``map_index`` to -1. Values are stored in the form
    :func:`tradewind.serde.encode` gives (datetimes, tuples, sets ... tagged); one it cannot
    store raises :class:`~tradewind.errors.XComValueError` naming the task, the type and where it
    sits, before anything is written. Returns the number of values written.
    """
    prepared = []
    for row in rows:
        values = _check_columns({"key": RETURN_VALUE, **row}, XCOM_TABLE, XCOM_KEY, "XCom")
        values["value"] = _encoded(values)
        prepared.append(values)
    if prepared:
        _upsert(session, XCOM_TABLE, XCOM_KEY, prepared)
    return len(prepared)


def get_xcoms(session: Session, dag_id: str, run_id: str, task_ids: Collection[str] | None = None) -> list[XCom]:
    """The XComs of one run (optionally only of ``task_ids``), ordered by task_id, map_index, key.

    Each ``value`` is the Python value that was stored (:func:`tradewind.serde.decode`): a
    datetime is a datetime again, a tuple a tuple; a dataclass is a StoredDataclass, as this
    process does not import user code.
    """
    query = select(XCom).where(XCom.dag_id == dag_id, XCom.run_id == run_id)
    if task_ids is not None:
        query = query.where(XCom.task_id.in_(list(task_ids)))
    query = query.order_by(XCom.task_id, XCom.map_index, XCom.key)
    found = list(session.scalars(query.execution_options(populate_existing=True)))
    for xcom in found:
        value = serde.decode(xcom.value)
        if value is not xcom.value:  # a committed value: the object is not dirty, nothing is written back
            set_committed_value(xcom, "value", value)
    return found
