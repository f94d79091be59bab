"""Alembic environment of the metadata store.

:func:`tradewind.store.engine.migrate` runs Alembic programmatically and hands over an open
connection (``config.attributes["connection"]``) already inside a locked transaction. A developer
may also run the ``alembic`` command with a config whose ``script_location`` points here; then
the database is the configured one (``sqlalchemy.url``, else tradewind's own setting).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from tradewind.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    from tradewind.store.engine import database_url

    context.configure(
        url=config.get_main_option("sqlalchemy.url") or database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    from tradewind.store.engine import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.connect() as own_connection:
            run_with(own_connection)
            own_connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
