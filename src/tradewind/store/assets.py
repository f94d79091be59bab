"""Assets in the store: events, the per-consumer queue, and the reads of the CLI and the API.

Written only by the scheduler, inside the transaction that records the producing task's success
(:func:`record_events`) and the one that creates the consumer's run (:func:`consume_queue`), so
an event is queued exactly once and consumed exactly once, whatever stops in between. See
docs/adr/0012-data-aware-scheduling.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.store import dag_versions as dv
from tradewind.store.models import (
    AssetAliasAsset,
    AssetAliasModel,
    AssetDagRunQueue,
    AssetEvent,
    AssetModel,
    DagRun,
    DagRunAssetEvent,
)

AssetKey = tuple[str, str]  # (name, uri)


def asset_id(session: Session, name: str, uri: str, now: datetime, group: str = "asset",
             extra: dict[str, Any] | None = None) -> int:  # fmt: skip
    """The id of the asset (name, uri), added when new (its group and extra kept up to date)."""
    row = session.scalars(select(AssetModel).where(AssetModel.name == name, AssetModel.uri == uri)).first()
    if row is None:
        row = AssetModel(name=name, uri=uri, group=group, extra=dict(extra or {}), created_at=now, updated_at=now)
        session.add(row)
        session.flush()
    elif extra is not None and (row.extra != extra or row.group != group):
        row.extra, row.group = dict(extra), group
        row.updated_at = now
    return row.id


def _alias_id(session: Session, name: str) -> int:
    row = session.scalars(select(AssetAliasModel).where(AssetAliasModel.name == name)).first()
    if row is None:
        row = AssetAliasModel(name=name, group="asset")
        session.add(row)
        session.flush()
    return row.id


def record_events(
    session: Session,
    key: TaskInstanceKey,
    events: Iterable[dict[str, Any]],
    consumers: Callable[[AssetKey, str | None], Iterable[str]],
    now: datetime,
) -> list[int]:
    """Write the asset events of the task instance ``key``'s success and queue each asset for
    the DAGs ``consumers`` names (an asset already queued for a DAG stays queued once, since
    its first event). Returns the new events' ids."""
    ids = []
    for event in events:
        found = asset_id(session, event["name"], event["uri"], now, event.get("group") or "asset",
                         event.get("asset_extra") or {})  # fmt: skip
        alias = event.get("alias")
        if alias:
            alias_id = _alias_id(session, alias)
            if session.get(AssetAliasAsset, (alias_id, found)) is None:
                session.add(AssetAliasAsset(alias_id=alias_id, asset_id=found))
        row = AssetEvent(
            asset_id=found,
            extra=dict(event.get("extra") or {}),
            source_dag_id=key.dag_id,
            source_task_id=key.task_id,
            source_run_id=key.run_id,
            source_map_index=key.map_index,
            source_alias=alias,
            timestamp=now,
        )
        session.add(row)
        session.flush()
        ids.append(row.id)
        for dag_id in consumers((event["name"], event["uri"]), alias):
            if session.get(AssetDagRunQueue, (found, dag_id)) is None:
                session.add(AssetDagRunQueue(asset_id=found, target_dag_id=dag_id, created_at=now))
    session.flush()
    return ids


def queued(session: Session) -> dict[str, dict[AssetKey, datetime]]:
    """Per consumer DAG, the assets queued for it and since when."""
    rows = session.execute(
        select(AssetDagRunQueue.target_dag_id, AssetModel.name, AssetModel.uri, AssetDagRunQueue.created_at).join(
            AssetModel, AssetModel.id == AssetDagRunQueue.asset_id
        )
    )
    found: dict[str, dict[AssetKey, datetime]] = {}
    for dag_id, name, uri, created_at in rows:
        found.setdefault(dag_id, {})[(name, uri)] = created_at
    return found


def alias_assets(session: Session, names: Iterable[str]) -> dict[str, set[AssetKey]]:
    """The assets each alias resolved to."""
    names = list(names)
    if not names:
        return {}
    rows = session.execute(
        select(AssetAliasModel.name, AssetModel.name, AssetModel.uri)
        .join(AssetAliasAsset, AssetAliasAsset.alias_id == AssetAliasModel.id)
        .join(AssetModel, AssetModel.id == AssetAliasAsset.asset_id)
        .where(AssetAliasModel.name.in_(names))
    )
    found: dict[str, set[AssetKey]] = {name: set() for name in names}
    for alias, name, uri in rows:
        found[alias].add((name, uri))
    return found


def consume_queue(
    session: Session, dag_id: str, run_id: str, assets: Iterable[AssetKey], aliases: Iterable[str], run_after: datetime
) -> int:
    """Link the run ``run_id`` (just inserted in this transaction) to the events it consumes —
    the events of ``assets`` and through ``aliases`` since the DAG's previous asset-triggered run
    (or since it was first queued), up to ``run_after`` — and empty the DAG's queue of what was
    queued until then. Returns how many events it consumed."""
    pairs = [and_(AssetModel.name == n, AssetModel.uri == u) for n, u in assets]
    ids = list(session.scalars(select(AssetModel.id).where(or_(*pairs)))) if pairs else []
    previous = session.scalar(
        select(func.max(DagRun.run_after)).where(
            DagRun.dag_id == dag_id, DagRun.run_type == "asset_triggered", DagRun.run_id != run_id
        )
    )
    first_queued = session.scalar(select(func.min(AssetDagRunQueue.created_at)).where(
        AssetDagRunQueue.target_dag_id == dag_id))  # fmt: skip
    aliases = list(aliases)
    wanted = or_(AssetEvent.asset_id.in_(ids), AssetEvent.source_alias.in_(aliases))
    query = select(AssetEvent.id).where(wanted, AssetEvent.timestamp <= run_after)
    if previous is not None:
        query = query.where(AssetEvent.timestamp > previous)
    elif first_queued is not None:
        query = query.where(AssetEvent.timestamp >= first_queued)
    events = list(session.scalars(query.order_by(AssetEvent.timestamp, AssetEvent.id)))
    if events:
        session.execute(insert(DagRunAssetEvent), [{"dag_id": dag_id, "run_id": run_id, "event_id": e} for e in events])
    session.execute(
        delete(AssetDagRunQueue)
        .where(AssetDagRunQueue.target_dag_id == dag_id, AssetDagRunQueue.created_at <= run_after)
        .execution_options(synchronize_session=False)
    )
    return len(events)


def event_dicts(session: Session, query: Any) -> list[dict[str, Any]]:
    """Events (rows of ``query`` over AssetEvent) as the runtime and the API read them."""
    rows = session.execute(
        query.add_columns(AssetModel.name, AssetModel.uri, AssetModel.group, AssetModel.extra).join(
            AssetModel, AssetModel.id == AssetEvent.asset_id
        )
    )
    return [
        {
            "id": event.id,
            "asset_id": event.asset_id,
            "name": name,
            "uri": uri,
            "group": group,
            "asset_extra": asset_extra,
            "extra": event.extra,
            "source_dag_id": event.source_dag_id,
            "source_task_id": event.source_task_id,
            "source_run_id": event.source_run_id,
            "source_map_index": event.source_map_index,
            "aliases": [event.source_alias] if event.source_alias else [],
            "timestamp": event.timestamp.isoformat(),
        }
        for event, name, uri, group, asset_extra in rows
    ]


def consumed_events(session: Session, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    """The events the asset-triggered run consumed, oldest first."""
    query = (
        select(AssetEvent)
        .join(DagRunAssetEvent, DagRunAssetEvent.event_id == AssetEvent.id)
        .where(DagRunAssetEvent.dag_id == dag_id, DagRunAssetEvent.run_id == run_id)
        .order_by(AssetEvent.timestamp, AssetEvent.id)
    )
    return event_dicts(session, query)


def events(
    session: Session,
    *,
    name: str | None = None,
    uri: str | None = None,
    alias: str | None = None,
    source_dag_id: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = False,
) -> list[dict[str, Any]]:
    """Asset events, filtered by asset name or uri, alias, or producing DAG; oldest first."""
    query = select(AssetEvent)
    if name is not None:
        query = query.where(AssetModel.name == name)
    if uri is not None:
        query = query.where(AssetModel.uri == uri)
    if alias is not None:
        query = query.where(AssetEvent.source_alias == alias)
    if source_dag_id is not None:
        query = query.where(AssetEvent.source_dag_id == source_dag_id)
    order = (
        (AssetEvent.timestamp.desc(), AssetEvent.id.desc()) if newest_first else (AssetEvent.timestamp, AssetEvent.id)
    )
    query = query.order_by(*order).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return event_dicts(session, query)


def references(session: Session) -> dict[AssetKey, dict[str, Any]]:
    """The assets the active DAGs name (their newest versions): per asset its group, the DAGs
    scheduled on it and the tasks that update it (``dag_id.task_id``)."""
    found: dict[AssetKey, dict[str, Any]] = {}

    def entry(node: dict[str, Any]) -> dict[str, Any]:
        name, uri = node["asset"]
        return found.setdefault(
            (name, uri), {"group": node.get("group", "asset"), "consumers": set(), "producers": set()}
        )

    def walk(node: dict[str, Any], dag_id: str) -> None:
        if "asset" in node:
            entry(node)["consumers"].add(dag_id)
        for part in node.get("all", []) + node.get("any", []):
            walk(part, dag_id)

    for dag_id, (_, data) in dv.latest_versions(session).items():
        if data.get("asset_condition"):
            walk(data["asset_condition"], dag_id)
        for task in data.get("tasks", []):
            for node in task.get("outlets", []):
                if "asset" in node:
                    entry(node)["producers"].add(f"{dag_id}.{task['task_id']}")
    return found


def list_assets(session: Session) -> list[dict[str, Any]]:
    """Every asset the active DAGs name or a task updated: its events (how many, the last one's
    time), the DAGs scheduled on it, the tasks that update it and the DAGs it is queued for."""
    counts = {
        asset: (count, last)
        for asset, count, last in session.execute(
            select(AssetEvent.asset_id, func.count(), func.max(AssetEvent.timestamp)).group_by(AssetEvent.asset_id)
        )
    }
    queued_for: dict[int, list[str]] = {}
    for asset, dag_id in session.execute(select(AssetDagRunQueue.asset_id, AssetDagRunQueue.target_dag_id)):
        queued_for.setdefault(asset, []).append(dag_id)
    named = references(session)
    rows = {(row.name, row.uri): row for row in session.scalars(select(AssetModel))}
    found = []
    for key in sorted(set(named) | set(rows)):
        row, ref = rows.get(key), named.get(key, {})
        count, last = counts.get(row.id, (0, None)) if row is not None else (0, None)
        found.append(
            {
                "id": row.id if row is not None else None,
                "name": key[0],
                "uri": key[1],
                "group": row.group if row is not None else ref.get("group", "asset"),
                "extra": row.extra if row is not None else {},
                "created_at": row.created_at if row is not None else None,
                "updated_at": row.updated_at if row is not None else None,
                "events": count,
                "last_event": last,
                "scheduled_dags": sorted(ref.get("consumers", ())),
                "producing_tasks": sorted(ref.get("producers", ())),
                "queued_for": sorted(queued_for.get(row.id, [])) if row is not None else [],
            }
        )
    return found
