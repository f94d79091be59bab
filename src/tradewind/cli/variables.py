"""``tradewind variables ...``: Variables in the store, as tasks read them with ``Variable.get``.

The environment (``AIRFLOW_VAR_<KEY>``, ``TRADEWIND_VAR_<KEY>``) is asked before the store, so
``get`` answers what a task would see.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from tradewind.cli.common import checked_id
from tradewind.cli.output import fail, output_option, print_json, print_table

if TYPE_CHECKING:
    from sqlalchemy import Engine


def _engine() -> Engine:
    from tradewind.store.engine import make_engine, migrate

    engine = make_engine()
    migrate(engine)
    return engine


@click.group()
def variables() -> None:
    """Set, read, list and delete Variables (read in DAGs with Variable.get or {{ var.value.KEY }})."""


@variables.command("set")
@click.argument("key", callback=checked_id)
@click.argument("value")
@click.option("--description", default=None, help="What the variable is for.")
@click.option("-j", "--serialize-json", is_flag=True, help="VALUE is JSON: check it and store it as JSON.")
def set_variable(key: str, value: str, description: str | None, serialize_json: bool) -> None:
    """Create or replace Variable KEY."""
    from tradewind.store import secrets as s
    from tradewind.store.engine import session_scope

    if serialize_json:
        try:
            value = json.dumps(json.loads(value), indent=2)
        except json.JSONDecodeError as exc:
            fail(f"--serialize-json: VALUE is not JSON ({exc.msg} at character {exc.pos})")
    with session_scope(_engine()) as session:
        s.set_variable(session, key, value, description)
    click.echo(f"Variable {key} set")


@variables.command("get")
@click.argument("key", callback=checked_id)
@click.option("-d", "--default", "default", default=None, help="Print this when KEY is set nowhere.")
@click.option("-j", "--deserialize-json", is_flag=True, help="Parse the value as JSON and print it as JSON.")
def get_variable(key: str, default: str | None, deserialize_json: bool) -> None:
    """The value of KEY as a task sees it (environment first, then the store); exit 1 if unset."""
    from tradewind.definitions import secrets
    from tradewind.definitions.variable import Variable, VariableNotFound
    from tradewind.store.secrets import existing_store_secrets

    with secrets.installed_for(existing_store_secrets()):
        try:
            value: Any = Variable.get(key, deserialize_json=deserialize_json)
        except VariableNotFound as exc:
            if default is None:
                fail(str(exc))
            value = default
    click.echo(json.dumps(value, indent=2) if deserialize_json else value)


@variables.command("list")
@output_option
def list_variables(output: str) -> None:
    """Every Variable in the store (values of sensitive-looking keys are hidden)."""
    from tradewind.definitions.secrets import MASK, is_sensitive
    from tradewind.store import secrets as s
    from tradewind.store.engine import session_scope

    with session_scope(_engine()) as session:
        rows = [
            {"key": v.key, "value": MASK if is_sensitive(v.key) else v.val, "description": v.description}
            for v in s.list_variables(session)
        ]
    if output == "json":
        print_json(rows)
    else:
        print_table(rows, ["key", "value", "description"], empty="No variables in the store.")


@variables.command("delete")
@click.argument("key", callback=checked_id)
def delete_variable(key: str) -> None:
    """Remove Variable KEY from the store (exit 1 if it is not there)."""
    from tradewind.store import secrets as s
    from tradewind.store.engine import session_scope

    with session_scope(_engine()) as session:
        deleted = s.delete_variable(session, key)
    if not deleted:
        fail(f"Variable {key} is not in the store (`tradewind variables list` shows what is)")
    click.echo(f"Variable {key} deleted")
