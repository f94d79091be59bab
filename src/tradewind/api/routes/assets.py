"""Assets and asset events: ``/api/v2/assets``, ``/api/v2/assets/events``, ``/api/v2/assets/{id}``.

Thin over ``store/assets.py``, in Airflow 3's shapes (AssetCollectionResponse,
AssetEventCollectionResponse). Differences (docs/adr/0012): an asset a DAG names but that no
task has updated yet has no row, so its ``id`` is null; ``consuming_tasks`` (from ``inlets``),
``watchers`` and ``created_dagruns`` of an event are not kept and are empty.
"""

from __future__ import annotations

import fnmatch
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from tradewind.api.deps import EngineDep, PageDep, Reader
from tradewind.store import assets as store
from tradewind.store.engine import session_scope

router = APIRouter(prefix="/api/v2/assets", tags=["Asset"])


def _iso(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def _asset(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "uri": row["uri"],
        "group": row["group"],
        "extra": row["extra"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "scheduled_dags": [{"dag_id": d, "created_at": None, "updated_at": None} for d in row["scheduled_dags"]],
        "producing_tasks": [
            {"dag_id": t.split(".", 1)[0], "task_id": t.split(".", 1)[1], "created_at": None, "updated_at": None}
            for t in row["producing_tasks"]
        ],
        "consuming_tasks": [],
        "aliases": [],
        "watchers": [],
        "last_asset_event": {"id": None, "timestamp": _iso(row["last_event"])} if row["last_event"] else None,
    }


def _event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "asset_id": row["asset_id"],
        "uri": row["uri"],
        "name": row["name"],
        "group": row["group"],
        "extra": row["extra"],
        "source_task_id": row["source_task_id"],
        "source_dag_id": row["source_dag_id"],
        "source_run_id": row["source_run_id"],
        "source_map_index": row["source_map_index"],
        "created_dagruns": [],
        "timestamp": row["timestamp"],
    }


def _like(pattern: str | None, value: str) -> bool:
    """Airflow's ``*_pattern`` filters: SQL LIKE with % and _, case-insensitive, anywhere in the value."""
    if not pattern:
        return True
    glob = pattern.replace("*", "[*]").replace("?", "[?]").replace("%", "*").replace("_", "?")
    return fnmatch.fnmatch(value.lower(), f"*{glob.lower()}*")


@router.get("", summary="Get Assets")
def get_assets(
    _user: Reader,
    engine: EngineDep,
    page: PageDep,
    name_pattern: str | None = None,
    uri_pattern: str | None = None,
    dag_ids: Annotated[list[str], Query()] = [],  # noqa: B006
) -> dict[str, Any]:
    """The assets the active DAGs name or a task updated, ordered by name and uri."""
    with session_scope(engine) as session:
        rows = store.list_assets(session)
    rows = [
        r
        for r in rows
        if _like(name_pattern, r["name"])
        and _like(uri_pattern, r["uri"])
        and (not dag_ids or set(dag_ids) & {*r["scheduled_dags"], *(t.split(".", 1)[0] for t in r["producing_tasks"])})
    ]
    return {"assets": [_asset(r) for r in rows[page.offset : page.offset + page.limit]], "total_entries": len(rows)}


@router.get("/events", summary="Get Asset Events")
def get_asset_events(
    _user: Reader,
    engine: EngineDep,
    page: PageDep,
    asset_id: int | None = None,
    source_dag_id: str | None = None,
    source_task_id: str | None = None,
    source_run_id: str | None = None,
    source_map_index: int | None = None,
) -> dict[str, Any]:
    """Asset events, oldest first, filtered as Airflow's."""
    with session_scope(engine) as session:
        rows = store.events(session, source_dag_id=source_dag_id)
    rows = [
        r
        for r in rows
        if (asset_id is None or r["asset_id"] == asset_id)
        and (source_task_id is None or r["source_task_id"] == source_task_id)
        and (source_run_id is None or r["source_run_id"] == source_run_id)
        and (source_map_index is None or r["source_map_index"] == source_map_index)
    ]
    return {
        "asset_events": [_event(r) for r in rows[page.offset : page.offset + page.limit]],
        "total_entries": len(rows),
    }


@router.get("/{asset_id}", summary="Get Asset")
def get_asset(asset_id: int, _user: Reader, engine: EngineDep) -> dict[str, Any]:
    with session_scope(engine) as session:
        rows = [r for r in store.list_assets(session) if r["id"] == asset_id]
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"The Asset with ID: `{asset_id}` was not found")
    return _asset(rows[0])
