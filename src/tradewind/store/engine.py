"""Connecting to the metadata store, creating or upgrading its schema, and sessions.

By default the store is a SQLite file, ``$TRADEWIND_HOME/tradewind.db``, in WAL mode (readers
never wait for the writer) with a 30 s busy timeout. ``TRADEWIND__DATABASE__URL`` (or
``[database] url`` in tradewind.toml) selects another one, e.g. a PostgreSQL server reached
through psycopg 3 (``pip install 'tradewind[postgres]'``).

A SQLite file tradewind creates is the owner's alone (0600, in folders made 0700): run conf,
variables and connections live in it. SQLite gives its ``-wal`` and ``-shm`` files the mode of
the database file. A file that exists keeps its mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import conf, create_private_file, home, make_folders
from tradewind.errors import ConfigError
from tradewind.store.models import Base
from tradewind.store.types import dumps_json

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_S = 30
# any fixed number: PostgreSQL sessions that migrate at the same time queue on this lock
MIGRATION_LOCK_KEY = 7_310_455_022


def database_url(url: str | None = None) -> str:
    """The store's URL: ``url`` if given, else ``[database] url``, else the SQLite file in TRADEWIND_HOME."""
    chosen = url or conf.get("database", "url")
    if chosen:
        return str(chosen)
    return f"sqlite:///{home() / 'tradewind.db'}"


def _normalise(raw: str) -> URL:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            f"database url {raw!r} is not a valid URL; use e.g. sqlite:////path/tradewind.db "
            "or postgresql://user:password@host:5432/tradewind"
        ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend == "postgres":  # the spelling of Heroku and libpq tools
        backend = "postgresql"
    if backend == "postgresql":
        if driver not in ("", "psycopg"):
            raise ConfigError(
                f"database url uses driver {driver!r}: tradewind talks to PostgreSQL through psycopg 3 "
                "(postgresql+psycopg:// or plain postgresql://)"
            )
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return url
    raise ConfigError(
        f"database url {url.render_as_string(hide_password=True)!r}: tradewind supports SQLite "
        "(sqlite:///path) and PostgreSQL (postgresql://...)"
    )


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # with WAL: a killed process loses no committed data; a power cut may lose the last commits
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _create_private_before_connect(path: Path) -> Any:
    def do_connect(_dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> None:
        create_private_file(path)  # else SQLite creates it 0644 (and its -wal and -shm with it)

    return do_connect


def make_engine(url: str | None = None) -> Engine:
    """An Engine for ``url`` (default: the configured store, else ``$TRADEWIND_HOME/tradewind.db``)."""
    target = _normalise(database_url(url))
    if target.get_backend_name() == "sqlite":
        path = None
        if target.database and target.database != ":memory:" and not target.database.startswith("file:"):
            path = Path(target.database).expanduser()
            make_folders(path.parent)
            target = target.set(database=str(path))
        engine = create_engine(
            target,
            json_serializer=dumps_json,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
        )
        if path is not None:
            event.listen(engine, "do_connect", _create_private_before_connect(path))
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise ConfigError(
            "the database url points at PostgreSQL, but psycopg 3 is not installed: pip install 'tradewind[postgres]'"
        ) from None
    return create_engine(
        target,
        json_serializer=dumps_json,
        pool_pre_ping=True,
        connect_args={"options": "-c timezone=UTC"},
    )


def describe_url(engine: Engine | str) -> str:
    """The engine's URL with any password masked, fit to print."""
    url = engine.url if isinstance(engine, Engine) else _normalise(engine)
    return url.render_as_string(hide_password=True)


def _alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this version of tradewind ships."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "tradewind ships no migrations"
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, or None for an empty database."""
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _lock_for_schema_change(connection: Connection) -> None:
    """Open a transaction that no other migrate/reset can enter until it ends."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # takes the write lock now
    else:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def shipped_head() -> str:
    """The newest revision, from the migration files' names (``NNNN_*.py``) without loading
    Alembic: every command checks the schema, and most find it up to date."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def _stamped_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    except SQLAlchemyError:  # no schema yet
        return None


def migrate(engine: Engine) -> str:
    """Create the schema, or upgrade it to the newest revision; a no-op when up to date. Returns the revision."""
    if _stamped_revision(engine) == shipped_head():
        return shipped_head()
    from alembic import command

    head = head_revision()
    if current_revision(engine) == head:
        return head
    with engine.connect() as connection:
        _lock_for_schema_change(connection)
        command.upgrade(_alembic_config(connection), "head")
        connection.commit()
    return head


def _drop_ours(connection: Connection) -> None:
    ours = set(Base.metadata.tables) | {"alembic_version"}
    found = MetaData()
    found.reflect(connection, only=lambda name, _meta: name in ours)
    found.drop_all(connection)


def reset(engine: Engine) -> str:
    """Drop every tradewind table (all runs, task instances, XComs...) and migrate again. Returns the revision."""
    with engine.connect() as connection:
        _lock_for_schema_change(connection)
        _drop_ours(connection)
        connection.commit()
    return migrate(engine)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A Session in one transaction: committed when the block ends, rolled back if it raises.

    Objects read inside stay readable after the block (they are not expired on commit).
    """
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session, session.begin():
        yield session
