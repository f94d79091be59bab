"""The metadata store: DAGs, runs, task instances, XComs, import errors and pools.

SQLAlchemy 2 models (:mod:`.models`), Alembic migrations shipped in the package (applied with
:func:`migrate`), and small query functions (:mod:`.queries`). SQLite in WAL mode by default,
PostgreSQL (psycopg 3) for several machines. Only the scheduler writes run and task state.

    from tradewind.store import make_engine, migrate, session_scope, queries as q

    engine = make_engine()          # $TRADEWIND_HOME/tradewind.db, or TRADEWIND__DATABASE__URL
    migrate(engine)
    with session_scope(engine) as session:
        q.list_dags(session)
"""

from __future__ import annotations

from tradewind.store import queries
from tradewind.store.engine import (
    current_revision,
    database_url,
    describe_url,
    head_revision,
    make_engine,
    migrate,
    reset,
    session_scope,
)
from tradewind.store.queries import DagRunAlreadyExists, DagRunNotFound

__all__ = [
    "DagRunAlreadyExists",
    "DagRunNotFound",
    "current_revision",
    "database_url",
    "describe_url",
    "head_revision",
    "make_engine",
    "migrate",
    "queries",
    "reset",
    "session_scope",
]
