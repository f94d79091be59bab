"""``tradewind assets ...``: the assets DAGs name, their events, and what waits on them.

Read only: events are written by the scheduler (and by ``dags test`` of a producer). See
docs/adr/0012-data-aware-scheduling.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from tradewind.cli.output import fail, output_option, print_json, print_table, short_time

if TYPE_CHECKING:
    from sqlalchemy import Engine


def _engine() -> Engine:
    from tradewind.store.engine import make_engine, migrate

    engine = make_engine()
    migrate(engine)
    return engine


def _joined(values: list[str]) -> str:
    return ", ".join(values)


@click.group()
def assets() -> None:
    """List assets and their events (tasks update them with outlets=; DAGs run on them with schedule=)."""


@assets.command("list")
@output_option
def list_assets(output: str) -> None:
    """Every asset the DAGs name or a task updated, with its events and the DAGs waiting on it."""
    from tradewind.store import assets as store
    from tradewind.store.engine import session_scope

    with session_scope(_engine()) as session:
        rows = store.list_assets(session)
    if output == "json":
        print_json(rows)
        return
    shown = [
        {
            **row,
            "last_event": short_time(row["last_event"].isoformat()) if row["last_event"] else None,
            "scheduled_dags": _joined(row["scheduled_dags"]),
            "producing_tasks": _joined(row["producing_tasks"]),
            "queued_for": _joined(row["queued_for"]),
        }
        for row in rows
    ]
    columns = ["name", "uri", "group", "events", "last_event", "scheduled_dags", "producing_tasks", "queued_for"]
    print_table(shown, columns, empty="No assets: no DAG names one and no task updated one.")


@assets.command("details")
@click.option("--name", default=None, help="The asset's name.")
@click.option("--uri", default=None, help="The asset's URI (normalised as Asset(uri=...) does).")
@output_option
def details(name: str | None, uri: str | None, output: str) -> None:
    """One asset, by its name or its URI."""
    from tradewind.definitions.assets import normalize_uri
    from tradewind.errors import TradewindError
    from tradewind.store import assets as store
    from tradewind.store.engine import session_scope

    if not name and not uri:
        fail("assets details: give --name or --uri")
    try:
        wanted_uri = normalize_uri(uri) if uri else None
    except TradewindError as exc:
        fail(f"assets details --uri: {exc}")
    with session_scope(_engine()) as session:
        found = [
            r
            for r in store.list_assets(session)
            if (not name or r["name"] == name) and (not uri or r["uri"] == wanted_uri)
        ]
    if not found:
        fail(f"No asset with {'name ' + repr(name) if name else 'uri ' + repr(wanted_uri)} (tradewind assets list)")
    if output == "json":
        print_json(found if len(found) > 1 else found[0])
        return
    for row in found:
        for key, value in row.items():
            click.echo(f"{key}: {_joined(value) if isinstance(value, list) else value}")


@assets.command("events")
@click.option("--name", default=None, help="Only the events of the asset with this name.")
@click.option("--uri", default=None, help="Only the events of the asset with this URI.")
@click.option("--alias", default=None, help="Only the events emitted through this asset alias.")
@click.option("--source-dag-id", default=None, help="Only the events of tasks of this DAG.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True, help="Newest events first.")
@output_option
def list_events(
    name: str | None, uri: str | None, alias: str | None, source_dag_id: str | None, limit: int, output: str
) -> None:
    """Asset events, newest first: which task updated which asset, when, with what extra."""
    import json

    from tradewind.definitions.assets import normalize_uri
    from tradewind.errors import TradewindError
    from tradewind.store import assets as store
    from tradewind.store.engine import session_scope

    try:
        wanted_uri = normalize_uri(uri) if uri else None
    except TradewindError as exc:
        fail(f"assets events --uri: {exc}")
    with session_scope(_engine()) as session:
        rows: list[dict[str, Any]] = store.events(
            session, name=name, uri=wanted_uri, alias=alias, source_dag_id=source_dag_id, limit=limit, newest_first=True
        )
    if output == "json":
        print_json(rows)
        return
    shown = [
        {
            "timestamp": short_time(row["timestamp"]),
            "name": row["name"],
            "uri": row["uri"],
            "source": f"{row['source_dag_id']}.{row['source_task_id']}"
            + (f"[{row['source_map_index']}]" if row["source_map_index"] >= 0 else ""),
            "source_run_id": row["source_run_id"],
            "alias": _joined(row["aliases"]),
            "extra": json.dumps(row["extra"]) if row["extra"] else "",
        }
        for row in rows
    ]
    print_table(
        shown, ["timestamp", "name", "uri", "source", "source_run_id", "alias", "extra"], empty="No asset events."
    )
