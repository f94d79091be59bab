"""``tradewind pools ...``: the slot pools that cap how many tasks of a kind run at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tradewind.cli.common import checked_id
from tradewind.cli.output import fail, output_option, print_json, print_table
from tradewind.errors import TradewindError

if TYPE_CHECKING:
    from sqlalchemy import Engine


def _engine() -> Engine:
    from tradewind.store.engine import make_engine, migrate

    engine = make_engine()
    migrate(engine)
    return engine


@click.group()
def pools() -> None:
    """List and set slot pools (tasks take ``pool_slots`` of their ``pool`` while they run)."""


@pools.command("list")
@output_option
def list_pools(output: str) -> None:
    """Every pool with its slots."""
    from tradewind.store import queries as q
    from tradewind.store.engine import session_scope

    with session_scope(_engine()) as session:
        rows = [{"pool": p.name, "slots": p.slots, "description": p.description} for p in q.get_pools(session)]
    if output == "json":
        print_json(rows)
    else:
        print_table(rows, ["pool", "slots", "description"])


@pools.command("set")
@click.argument("name", callback=checked_id)
@click.argument("slots", type=int)
@click.option("--description", default=None, help="What the pool is for.")
def set_pool(name: str, slots: int, description: str | None) -> None:
    """Create a pool or change its slots; a running scheduler picks it up on its next DAG parse."""
    from tradewind.store import queries as q
    from tradewind.store.engine import session_scope

    try:
        with session_scope(_engine()) as session:
            q.set_pool(session, name, slots, description)
    except TradewindError as exc:
        fail(str(exc))
    click.echo(f"Pool {name}: {slots} slot(s)")
