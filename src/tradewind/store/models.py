"""The tables of the metadata store, as typed SQLAlchemy models.

The schema itself is created by the Alembic migrations in ``migrations/versions``; these models
must describe exactly what the migrations build (``tests/store`` compares the two). Change a
model only together with a new migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tradewind.store.types import UTCDateTime

ID_LENGTH = 250  # dag_id, run_id and task_id (the definitions' MAX_ID_LENGTH)
KEY_LENGTH = 512  # XCom keys
HASH_LENGTH = 64  # sha256 hex digests
UNMAPPED = -1  # map_index of a task instance that is not mapped

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DagModel(Base):
    """One DAG found in the DAGs folder (kept, inactive, when its file disappears)."""

    __tablename__ = "dag"

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    fileloc: Mapped[str] = mapped_column(Text, default="")
    is_paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    schedule: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    serialized: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    max_active_runs: Mapped[int] = mapped_column(Integer, default=16, server_default=text("16"))
    next_dagrun: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_dagrun_data_interval_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_dagrun_data_interval_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_parsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dag_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))  # the newest version
    version_number: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    next_dagrun_create_after: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<DagModel {self.dag_id} paused={self.is_paused} active={self.is_active}>"


class DagRun(Base):
    """One run of a DAG: scheduled, manual or backfill."""

    __tablename__ = "dag_run"
    __table_args__ = (
        UniqueConstraint("dag_id", "run_id"),
        Index("ix_dag_run_dag_id_state", "dag_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("dag.dag_id", ondelete="CASCADE"))
    run_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    # None: a manual run of an Airflow 3 DAG triggered without one (then no data interval either)
    logical_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    run_after: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when it may start (migration 0008)
    data_interval_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    data_interval_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    run_type: Mapped[str] = mapped_column(String(20))  # scheduled | manual | backfill
    conf: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="queued")  # queued|running|success|failed
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    start_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dag_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))  # the DAG version it runs
    # the DAG callback a finished run still owes (migration 0010: success, reason, task_id, map_index)
    callback_request: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # the try of a TriggerDagRunOperator that created this run (migration 0010; a list of its ids)
    triggered_by: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))

    def __repr__(self) -> str:
        return f"<DagRun {self.dag_id} {self.run_id} {self.state}>"


class TaskInstance(Base):
    """One try-able unit of work: a task in a run, at one map index (-1 when not mapped)."""

    __tablename__ = "task_instance"
    __table_args__ = (
        ForeignKeyConstraint(["dag_id", "run_id"], ["dag_run.dag_id", "dag_run.run_id"], ondelete="CASCADE"),
        Index("ix_task_instance_dag_id_run_id_state", "dag_id", "run_id", "state"),
    )

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    map_index: Mapped[int] = mapped_column(
        Integer, primary_key=True, default=UNMAPPED, server_default=text(str(UNMAPPED))
    )
    try_number: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    max_tries: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    state: Mapped[str | None] = mapped_column(String(20))  # a TaskInstanceState value, or None
    start_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration: Mapped[float | None] = mapped_column(Float)
    hostname: Mapped[str | None] = mapped_column(String(1000))
    pid: Mapped[int | None] = mapped_column(Integer)
    rendered_map_index: Mapped[str | None] = mapped_column(Text)  # label of a mapped instance
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        index = "" if self.map_index == UNMAPPED else f"[{self.map_index}]"
        return f"<TaskInstance {self.dag_id} {self.run_id} {self.task_id}{index} {self.state}>"


class XCom(Base):
    """A value one task instance hands to others (its return value under key ``return_value``)."""

    __tablename__ = "xcom"
    __table_args__ = (
        ForeignKeyConstraint(
            ["dag_id", "run_id", "task_id", "map_index"],
            [
                "task_instance.dag_id",
                "task_instance.run_id",
                "task_instance.task_id",
                "task_instance.map_index",
            ],
            ondelete="CASCADE",
        ),
    )

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    map_index: Mapped[int] = mapped_column(
        Integer, primary_key=True, default=UNMAPPED, server_default=text(str(UNMAPPED))
    )
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON(none_as_null=False))

    def __repr__(self) -> str:
        return f"<XCom {self.dag_id} {self.run_id} {self.task_id}[{self.map_index}] {self.key}>"


class DagImportError(Base):
    """A DAG file that failed to import, with the error (traceback) the loader recorded."""

    __tablename__ = "import_error"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    filename: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<DagImportError {self.filename}>"


class SerializedDagModel(Base):
    """One version of a DAG's structure (tradewind.definitions.serialized), keyed by its hash."""

    __tablename__ = "serialized_dag"

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    dag_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    version_number: Mapped[int] = mapped_column(Integer)
    fileloc: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<SerializedDag {self.dag_id} v{self.version_number}>"


class DagFile(Base):
    """What the DAG processor knows of one DAG file: what it last imported and what came out."""

    __tablename__ = "dag_file"

    fileloc: Mapped[str] = mapped_column(Text, primary_key=True)
    # [[path, mtime_ns, size], ...] of the file and of the files it read while importing
    fingerprint: Mapped[list[Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))  # of the same files' bytes
    dag_ids: Mapped[list[str]] = mapped_column(JSON)
    parse_seconds: Mapped[float | None] = mapped_column(Float)
    last_parsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # imported again then although unchanged: a user's own timetable's stored runs run out (ADR 8)
    refresh_after: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<DagFile {self.fileloc}>"


class SlotPool(Base):
    """A named limit on how many task instances may run at once."""

    __tablename__ = "slot_pool"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    slots: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<SlotPool {self.name} slots={self.slots}>"


DEFAULT_POOL = "default_pool"
DEFAULT_POOL_SLOTS = 128


class SchedulerLease(Base):
    """Who may schedule against this database: one row per lease, held by one scheduler process
    until it lapses (``expires_at``) unless renewed (``tradewind.store.lease``)."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # "scheduler"
    holder_token: Mapped[str] = mapped_column(String(64))  # random, one per holding process
    hostname: Mapped[str] = mapped_column(String(1000))
    pid: Mapped[int] = mapped_column(Integer)
    host_key: Mapped[str] = mapped_column(String(200))  # boot id and PID namespace: where `pid` means something
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<SchedulerLease {self.name} {self.hostname} pid {self.pid} until {self.expires_at}>"


class User(Base):
    """Someone who may log in to the API and the web UI (``tradewind.auth``)."""

    __tablename__ = "tw_user"

    username: Mapped[str] = mapped_column(String(256), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id PHC string
    role: Mapped[str] = mapped_column(String(20))  # viewer | op | admin
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # older tokens are refused

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ServerSecret(Base):
    """A random secret made once per database (the API's token key), shared by its servers."""

    __tablename__ = "server_secret"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # hex
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<ServerSecret {self.name}>"


class StoredVariable(Base):
    """A named value tasks read with ``Variable.get`` (the environment is asked first)."""

    __tablename__ = "variable"

    key: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    val: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<Variable {self.key}>"


class StoredConnection(Base):
    """How to reach an outside system; read with ``BaseHook.get_connection`` / ``Connection.get``.
    The password is stored as given: protect the store (the SQLite file is private to its owner)."""

    __tablename__ = "connection"

    conn_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    conn_type: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(500))
    schema: Mapped[str | None] = mapped_column(String(500))
    login: Mapped[str | None] = mapped_column(Text)
    password: Mapped[str | None] = mapped_column(Text)
    port: Mapped[int | None] = mapped_column(Integer)
    extra: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<Connection {self.conn_id} ({self.conn_type})>"


# --- assets: data-aware scheduling (migration 0009, store/assets.py, docs/adr/0012) ---------------
ASSET_TEXT_LENGTH = 1500  # Airflow's limit on an asset's name, uri and group


class AssetModel(Base):
    """An asset some task updated (``outlets``): known by its name and uri together."""

    __tablename__ = "asset"
    __table_args__ = (UniqueConstraint("name", "uri"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(ASSET_TEXT_LENGTH))
    uri: Mapped[str] = mapped_column(String(ASSET_TEXT_LENGTH))
    group: Mapped[str] = mapped_column(String(ASSET_TEXT_LENGTH), default="asset")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Asset {self.name} {self.uri}>"


class AssetAliasModel(Base):
    """An alias tasks emitted asset events through; ``asset_alias_asset`` says which assets."""

    __tablename__ = "asset_alias"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(ASSET_TEXT_LENGTH), unique=True)
    group: Mapped[str] = mapped_column(String(ASSET_TEXT_LENGTH), default="asset")


class AssetAliasAsset(Base):
    """An asset an alias resolved to (an event of that asset was emitted through the alias)."""

    __tablename__ = "asset_alias_asset"

    alias_id: Mapped[int] = mapped_column(Integer, ForeignKey("asset_alias.id", ondelete="CASCADE"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(Integer, ForeignKey("asset.id", ondelete="CASCADE"), primary_key=True)


class AssetEvent(Base):
    """One update of an asset: by a task's success (its source), with the extra it set."""

    __tablename__ = "asset_event"
    __table_args__ = (Index("ix_asset_event_asset_id_timestamp", "asset_id", "timestamp"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[int] = mapped_column(Integer, ForeignKey("asset.id", ondelete="CASCADE"))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_dag_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    source_task_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    source_run_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    source_map_index: Mapped[int] = mapped_column(Integer, default=UNMAPPED, server_default=text(str(UNMAPPED)))
    source_alias: Mapped[str | None] = mapped_column(String(ASSET_TEXT_LENGTH))  # emitted through it
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<AssetEvent {self.id} asset={self.asset_id} {self.source_dag_id}.{self.source_task_id}>"


class AssetDagRunQueue(Base):
    """An asset updated since a consumer DAG's last asset-triggered run: the consumer's queue.
    Its rows are deleted in the transaction that creates the run that consumes them."""

    __tablename__ = "asset_dag_run_queue"

    asset_id: Mapped[int] = mapped_column(Integer, ForeignKey("asset.id", ondelete="CASCADE"), primary_key=True)
    target_dag_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("dag.dag_id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DagRunAssetEvent(Base):
    """An asset event an asset-triggered run consumed (its ``triggering_asset_events``)."""

    __tablename__ = "dagrun_asset_event"
    __table_args__ = (
        ForeignKeyConstraint(["dag_id", "run_id"], ["dag_run.dag_id", "dag_run.run_id"], ondelete="CASCADE"),
    )

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, ForeignKey("asset_event.id", ondelete="CASCADE"), primary_key=True)
