"""``tradewind users ...``: the people who may log in to the API and the web UI."""

from __future__ import annotations

import secrets
import sys
from typing import Any

import click

from tradewind.cli.output import fail, output_option, print_json, print_table

ROLE_NAMES = {"viewer": "viewer", "op": "op", "admin": "admin"}
AIRFLOW_ROLES = {"user": "op", "public": None}  # Airflow's other roles: the nearest, or none


def _role(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    role = ROLE_NAMES.get(value.lower())
    if role is None:
        nearest = AIRFLOW_ROLES.get(value.lower())
        hint = f" (Airflow's {value} role: use {nearest})" if nearest else ""
        raise click.BadParameter(f"unknown role {value!r}{hint}; use one of: viewer, op, admin")
    return role


def _engine() -> Any:
    from tradewind.store.engine import make_engine, migrate

    engine = make_engine()
    migrate(engine)
    return engine


def _auth() -> Any:
    try:
        import tradewind.auth as auth
    except ImportError as exc:  # argon2-cffi or PyJWT missing
        fail(f"users need the server extra ({exc.name} is not installed): pip install 'tradewind[server]'")
        raise
    return auth


def _password(given: str | None, random_password: bool, username: str) -> tuple[str, bool]:
    """The password to set, and whether it was made up here (then it is printed)."""
    if given is not None and random_password:
        fail("give --password or --use-random-password, not both")
    if random_password:
        return secrets.token_urlsafe(12), True
    if given is not None:
        return given, False
    if not sys.stdin.isatty():
        fail("give the password with --password (or --use-random-password): there is no terminal to ask on")
    return click.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True), False


@click.group()
def users() -> None:
    """Create, list and delete the users of the API and the web UI."""


@users.command("create")
@click.option("--username", "-u", required=True, help="The login name.")
@click.option("--role", "-r", required=True, callback=_role, help="viewer (reads), op (also acts), admin (also users).")
@click.option("--password", "-p", default=None, help="The password (asked for when not given).")
@click.option("--use-random-password", is_flag=True, help="Make up a password and print it.")
def create(username: str, role: str, password: str | None, use_random_password: bool) -> None:
    """Add a user with a role."""
    auth = _auth()
    chosen, made_up = _password(password, use_random_password, username)
    from tradewind.store.engine import session_scope

    try:
        with session_scope(_engine()) as session:
            auth.create_user(session, username, chosen, role)
    except auth.UserError as exc:
        fail(str(exc))
    click.echo(f"User {username} created with role {role}")
    if made_up:
        click.echo(f"Password: {chosen}")


@users.command("list")
@output_option
def list_users(output: str) -> None:
    """Every user and its role."""
    auth = _auth()
    from tradewind.store.engine import session_scope

    with session_scope(_engine()) as session:
        rows = [
            {"username": u.username, "role": u.role, "created_at": u.created_at.isoformat(timespec="seconds")}
            for u in auth.list_users(session)
        ]
    if output == "json":
        print_json(rows)
    else:
        print_table(rows, ["username", "role", "created_at"], empty="No users (add one with `tradewind users create`).")


@users.command("delete")
@click.option("--username", "-u", required=True, help="The user to delete.")
def delete(username: str) -> None:
    """Remove a user; its tokens and sessions stop working."""
    auth = _auth()
    from tradewind.store.engine import session_scope

    try:
        with session_scope(_engine()) as session:
            auth.delete_user(session, username)
    except auth.UserError as exc:
        fail(str(exc))
    click.echo(f"User {username} deleted")


@users.command("reset-password")
@click.option("--username", "-u", required=True, help="The user whose password to change.")
@click.option("--password", "-p", default=None, help="The new password (asked for when not given).")
@click.option("--use-random-password", is_flag=True, help="Make up a password and print it.")
def reset_password(username: str, password: str | None, use_random_password: bool) -> None:
    """Give a user a new password; tokens issued before stop working."""
    auth = _auth()
    chosen, made_up = _password(password, use_random_password, username)
    from tradewind.store.engine import session_scope

    try:
        with session_scope(_engine()) as session:
            auth.reset_password(session, username, chosen)
    except auth.UserError as exc:
        fail(str(exc))
    click.echo(f"Password of {username} changed")
    if made_up:
        click.echo(f"Password: {chosen}")
