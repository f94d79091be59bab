"""``tradewind db ...``: create, upgrade or wipe the metadata store.

SQLAlchemy and Alembic are imported inside the commands, so other commands stay fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from tradewind.cli.output import fail
from tradewind.errors import TradewindError


@click.group()
def db() -> None:
    """Manage the metadata database (SQLite file by default, or TRADEWIND__DATABASE__URL)."""


def _with_engine(action: Callable[[Any, str], None]) -> None:
    """Open the configured store, run ``action(engine, printable_url)``, and turn failures into messages."""
    from sqlalchemy.exc import SQLAlchemyError

    from tradewind.store.engine import describe_url, make_engine

    try:
        engine = make_engine()
    except TradewindError as exc:
        fail(str(exc))
    url = describe_url(engine)
    try:
        action(engine, url)
    except TradewindError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(f"database {url}: {getattr(exc, 'orig', None) or exc}")
    finally:
        engine.dispose()


@db.command("migrate")
def migrate_command() -> None:
    """Create the database, or upgrade its schema to this version of tradewind."""
    from tradewind.store.engine import current_revision, migrate

    def run(engine: Any, url: str) -> None:
        click.echo(f"Database: {url}")
        before = current_revision(engine)
        after = migrate(engine)
        if before is None:
            click.echo(f"Created the schema at revision {after}.")
        elif before != after:
            click.echo(f"Upgraded the schema from revision {before} to {after}.")
        click.echo(f"Schema is up to date (revision {after}).")

    _with_engine(run)


@db.command("reset")
@click.option("--yes", is_flag=True, help="Confirm: delete every DAG run, task instance and XCom.")
def reset_command(yes: bool) -> None:
    """Delete everything in the database and create the schema again."""
    from tradewind.store.engine import database_url, describe_url, reset

    if not yes:
        try:
            where = describe_url(database_url())
        except TradewindError as exc:
            fail(str(exc))
        fail(
            f"`db reset` deletes all DAGs, runs, task instances, XComs and pools in {where}. "
            "Run `tradewind db reset --yes` to confirm."
        )

    def run(engine: Any, url: str) -> None:
        click.echo(f"Database: {url}")
        revision = reset(engine)
        click.echo(f"Deleted all data and created the schema again; up to date (revision {revision}).")

    _with_engine(run)
