"""``tradewind connections ...``: Connections in the store, as tasks read them with
``BaseHook.get_connection`` or ``{{ conn.ID }}`` (the environment, ``AIRFLOW_CONN_<ID>``, first)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from tradewind.cli.common import checked_id
from tradewind.cli.output import fail, output_option, print_json, print_table
from tradewind.errors import TradewindError

if TYPE_CHECKING:
    from sqlalchemy import Engine

COLUMNS = ["conn_id", "conn_type", "host", "port", "schema", "login", "password", "extra", "description"]


def _engine() -> Engine:
    from tradewind.store.engine import make_engine, migrate

    engine = make_engine()
    migrate(engine)
    return engine


def _shown(fields: dict[str, Any], show_password: bool) -> dict[str, Any]:
    from tradewind.definitions.secrets import MASK

    shown = dict(fields)
    if shown.get("password") and not show_password:
        shown["password"] = MASK
    return shown


@click.group()
def connections() -> None:
    """Add, read, list and delete Connections (read in DAGs with BaseHook.get_connection or {{ conn.ID }})."""


@connections.command("add")
@click.argument("conn_id", callback=checked_id)
@click.option("--conn-uri", default=None, help="The whole connection as a URI: type://login:password@host:port/schema")
@click.option("--conn-json", default=None, help='The whole connection as JSON: {"conn_type": "http", "host": ...}')
@click.option("--conn-type", default=None)
@click.option("--conn-host", default=None)
@click.option("--conn-login", default=None)
@click.option("--conn-password", default=None)
@click.option("--conn-schema", default=None)
@click.option("--conn-port", default=None, type=int)
@click.option("--conn-extra", default=None, help="Extra fields as a JSON object.")
@click.option("--conn-description", default=None)
def add_connection(conn_id: str, conn_uri: str | None, conn_json: str | None, **fields: Any) -> None:
    """Store a new connection CONN_ID (exit 1 if it exists: delete it first to replace it)."""
    from tradewind.definitions.connection import Connection
    from tradewind.store import secrets as s
    from tradewind.store.engine import session_scope

    given = {name.removeprefix("conn_"): value for name, value in fields.items() if value is not None}
    if sum(bool(x) for x in (conn_uri, conn_json, given)) != 1:
        fail("pass exactly one of --conn-uri, --conn-json, or the separate --conn-* options (with --conn-type)")
    try:
        if conn_uri:
            conn = Connection.from_uri(conn_uri, conn_id)
        elif conn_json:
            conn = Connection.from_json(conn_json, conn_id)
        else:
            if "type" not in given:
                fail("--conn-type is required with the separate --conn-* options (e.g. --conn-type postgres)")
            given["conn_type"] = given.pop("type")
            conn = Connection(conn_id=conn_id, **given)
        if not conn.conn_type:
            raise TradewindError(
                f"Connection {conn_id!r} has no type: give one (a URI's scheme, e.g. postgres://..., "
                '"conn_type" in JSON, or --conn-type)'
            )
        if conn.extra and not conn.extra_dejson and conn.extra.strip() != "{}":
            raise TradewindError(f"Connection {conn_id!r}: extra must be a JSON object, got {conn.extra!r}")
    except TradewindError as exc:
        fail(str(exc))
    stored = conn.to_dict()
    stored.pop("conn_id")
    with session_scope(_engine()) as session:
        added = s.add_connection(session, conn_id, stored)
    if not added:
        fail(f"Connection {conn_id} already exists: `tradewind connections delete {conn_id}` first to replace it")
    click.echo(f"Connection {conn_id} added")


@connections.command("get")
@click.argument("conn_id", callback=checked_id)
@click.option("--show-password", is_flag=True, help="Print the password instead of ***.")
@output_option
def get_connection(conn_id: str, show_password: bool, output: str) -> None:
    """CONN_ID as a task sees it (environment first, then the store); exit 1 if it is defined nowhere."""
    from tradewind.definitions import secrets
    from tradewind.definitions.connection import Connection, ConnectionNotFound
    from tradewind.store.secrets import existing_store_secrets

    with secrets.installed_for(existing_store_secrets()):
        try:
            conn = Connection.get(conn_id)
        except ConnectionNotFound as exc:
            fail(str(exc))
        except TradewindError as exc:  # a malformed URI or JSON in the environment
            fail(str(exc))
    row = _shown(conn.to_dict(), show_password)
    if output == "json":
        print_json(row)
    else:
        print_table([row], COLUMNS)


@connections.command("list")
@output_option
def list_connections(output: str) -> None:
    """Every connection in the store (passwords shown as ***)."""
    from tradewind.store import secrets as s
    from tradewind.store.engine import session_scope

    with session_scope(_engine()) as session:
        rows = [_shown({"conn_id": c.conn_id, **s.connection_fields(c)}, False) for c in s.list_connections(session)]
    if output == "json":
        print_json(rows)
    else:
        print_table(rows, COLUMNS, empty="No connections in the store.")


@connections.command("delete")
@click.argument("conn_id", callback=checked_id)
def delete_connection(conn_id: str) -> None:
    """Remove CONN_ID from the store (exit 1 if it is not there)."""
    from tradewind.store import secrets as s
    from tradewind.store.engine import session_scope

    with session_scope(_engine()) as session:
        deleted = s.delete_connection(session, conn_id)
    if not deleted:
        fail(f"Connection {conn_id} is not in the store (`tradewind connections list` shows what is)")
    click.echo(f"Connection {conn_id} deleted")
