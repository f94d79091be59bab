"""Variables and Connections in the store: small query functions, and :class:`StoreSecrets`, the
read (and Variable-write) handle a task's process gets (docs/adr/0011).

Variables and Connections are not run state: writing them here (``tradewind variables set``,
``Variable.set`` in a task) does not break the rule that only the scheduler writes runs and
task instances.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from tradewind.store.models import StoredConnection, StoredVariable

CONNECTION_FIELDS = ("conn_type", "description", "host", "login", "password", "schema", "port", "extra")


# -- variables


def get_variable(session: Session, key: str) -> StoredVariable | None:
    return session.get(StoredVariable, key)


def set_variable(session: Session, key: str, value: str, description: str | None = None) -> None:
    """Create or replace ``key``; a replaced variable keeps its description unless one is given."""
    row = session.get(StoredVariable, key)
    if row is None:
        session.add(StoredVariable(key=key, val=value, description=description))
    else:
        row.val = value
        if description is not None:
            row.description = description


def update_variable(session: Session, key: str, changes: dict[str, Any]) -> StoredVariable | None:
    """Change ``value`` and/or ``description`` of ``key``; None if it is not in the store."""
    row = session.get(StoredVariable, key)
    if row is None:
        return None
    if "value" in changes:
        row.val = changes["value"]
    if "description" in changes:
        row.description = changes["description"]
    return row


def list_variables(session: Session) -> list[StoredVariable]:
    return list(session.scalars(select(StoredVariable).order_by(StoredVariable.key)))


def delete_variable(session: Session, key: str) -> bool:
    return bool(session.execute(delete(StoredVariable).where(StoredVariable.key == key)).rowcount)  # type: ignore[attr-defined]


# -- connections


def get_connection(session: Session, conn_id: str) -> StoredConnection | None:
    return session.get(StoredConnection, conn_id)


def add_connection(session: Session, conn_id: str, fields: dict[str, Any]) -> bool:
    """Store a new connection; False (nothing written) if ``conn_id`` exists already."""
    if session.get(StoredConnection, conn_id) is not None:
        return False
    unknown = set(fields) - set(CONNECTION_FIELDS)
    if unknown:
        raise ValueError(f"unknown connection field(s): {', '.join(sorted(unknown))}")
    session.add(StoredConnection(conn_id=conn_id, **fields))
    return True


def update_connection(session: Session, conn_id: str, changes: dict[str, Any]) -> StoredConnection | None:
    """Change some fields of ``conn_id``; None if it is not in the store."""
    unknown = set(changes) - set(CONNECTION_FIELDS)
    if unknown:
        raise ValueError(f"unknown connection field(s): {', '.join(sorted(unknown))}")
    row = session.get(StoredConnection, conn_id)
    if row is None:
        return None
    for name, value in changes.items():
        setattr(row, name, value)
    return row


def list_connections(session: Session) -> list[StoredConnection]:
    return list(session.scalars(select(StoredConnection).order_by(StoredConnection.conn_id)))


def delete_connection(session: Session, conn_id: str) -> bool:
    result = session.execute(delete(StoredConnection).where(StoredConnection.conn_id == conn_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def connection_fields(row: StoredConnection) -> dict[str, Any]:
    return {name: getattr(row, name) for name in CONNECTION_FIELDS}


# -- the handle a task's process reads through


class StoreSecrets:
    """A :class:`~tradewind.definitions.secrets.SecretsSource` over the store at ``url``.

    Picklable (only the URL travels; a worker process opens its own engine when a task first
    reads a Variable or Connection), so the scheduler can hand it to its workers."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.url = state["url"]
        self._engine = None

    def _session(self) -> Any:
        from tradewind.store.engine import make_engine, session_scope

        if self._engine is None:
            self._engine = make_engine(self.url)
        return session_scope(self._engine)

    def get_variable(self, key: str) -> str | None:
        try:
            with self._session() as session:
                row = get_variable(session, key)
                return None if row is None else row.val
        except (OperationalError, ProgrammingError):  # a store from before migration 0005: none set
            return None

    def set_variable(self, key: str, value: str, description: str | None = None) -> None:
        with self._session() as session:
            set_variable(session, key, value, description)

    def delete_variable(self, key: str) -> bool:
        with self._session() as session:
            return delete_variable(session, key)

    def get_connection(self, conn_id: str) -> dict[str, Any] | None:
        try:
            with self._session() as session:
                row = get_connection(session, conn_id)
                return None if row is None else connection_fields(row)
        except (OperationalError, ProgrammingError):
            return None

    def dag_run_state(self, dag_id: str, run_id: str) -> str | None:
        """The state of a DAG run, or None when there is no such run (read only: a
        TriggerDagRunOperator waiting for the run it triggered)."""
        from tradewind.store.queries import get_dag_run

        with self._session() as session:
            run = get_dag_run(session, dag_id, run_id)
            return None if run is None else str(run.state)

    def count_task_instances(
        self, dag_id: str, task_ids: list[str], logical_dates: list[datetime], states: list[str]
    ) -> int:
        """How many instances of ``task_ids`` in the runs of ``dag_id`` at ``logical_dates`` are in
        ``states`` (read only: an ExternalTaskSensor)."""
        from tradewind.store.models import DagRun, TaskInstance

        query = (
            select(func.count())
            .select_from(TaskInstance)
            .join(DagRun, (DagRun.dag_id == TaskInstance.dag_id) & (DagRun.run_id == TaskInstance.run_id))
            .where(
                TaskInstance.dag_id == dag_id,
                TaskInstance.task_id.in_(task_ids),
                TaskInstance.state.in_(states),
                DagRun.logical_date.in_(logical_dates),
            )
        )
        with self._session() as session:
            return int(session.scalar(query) or 0)

    def count_dag_runs(self, dag_id: str, logical_dates: list[datetime], states: list[str]) -> int:
        """How many runs of ``dag_id`` at ``logical_dates`` are in ``states`` (read only)."""
        from tradewind.store.models import DagRun

        query = (
            select(func.count())
            .select_from(DagRun)
            .where(DagRun.dag_id == dag_id, DagRun.state.in_(states), DagRun.logical_date.in_(logical_dates))
        )
        with self._session() as session:
            return int(session.scalar(query) or 0)

    def task_states_in_group(
        self, dag_id: str, group_id: str, logical_dates: list[datetime]
    ) -> dict[str, dict[tuple[str, int], str | None]]:
        """Per run of ``dag_id`` at ``logical_dates``: the state of each instance of the tasks in
        task group ``group_id`` (nested groups too) of the DAG's latest version (read only: an
        ExternalTaskSensor with external_task_group_id, as Airflow 3's ``get_task_states``)."""
        from tradewind.definitions.serialized import SerializedDAG
        from tradewind.store.dag_versions import latest_versions
        from tradewind.store.models import DagRun, TaskInstance

        with self._session() as session:
            found = latest_versions(session, [dag_id]).get(dag_id)
            if found is None:
                return {}
            dag = SerializedDAG(found[1], found[0])
            task_ids = [t.task_id for t in dag.tasks if _in_group(dag, t.group_id, group_id)]
            if not task_ids:
                return {}
            query = (
                select(TaskInstance.run_id, TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state)
                .join(DagRun, (DagRun.dag_id == TaskInstance.dag_id) & (DagRun.run_id == TaskInstance.run_id))
                .where(
                    TaskInstance.dag_id == dag_id,
                    TaskInstance.task_id.in_(task_ids),
                    DagRun.logical_date.in_(logical_dates),
                )
            )
            runs: dict[str, dict[tuple[str, int], str | None]] = {}
            for run_id, task_id, map_index, state in session.execute(query):
                runs.setdefault(run_id, {})[(task_id, map_index)] = state
            return runs

    def asset_events(
        self, *, name: str | None = None, uri: str | None = None, alias: str | None = None
    ) -> list[dict[str, Any]]:
        """An asset's events (or an alias's), oldest first (read only: a task's ``inlet_events``)."""
        from tradewind.store.assets import events

        try:
            with self._session() as session:
                return events(session, name=name, uri=uri, alias=alias)
        except (OperationalError, ProgrammingError):  # a store from before migration 0009: none
            return []

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __repr__(self) -> str:
        return f"<StoreSecrets {self.url.split('@')[-1]}>"


def existing_store_secrets(url: str | None = None) -> StoreSecrets | None:
    """A handle on the configured store, or None when it is a SQLite file that does not exist
    yet (``dags test`` before ``tradewind db migrate``: only the environment answers then)."""
    from pathlib import Path

    from tradewind.store.engine import database_url

    chosen = database_url(url)
    if chosen.startswith("sqlite") and not Path(chosen.split("///", 1)[-1]).expanduser().exists():
        return None
    return StoreSecrets(chosen)


def _in_group(dag: Any, group_id: str | None, wanted: str) -> bool:
    """Is a task of group ``group_id`` inside group ``wanted`` (itself or nested)?"""
    while group_id is not None:
        if group_id == wanted:
            return True
        group = dag.groups.get(group_id)
        group_id = group.parent_id if group is not None else None
    return False
