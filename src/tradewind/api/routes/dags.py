"""DAGs: list (filters, pages), get, pause/unpause, details, tasks."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tradewind import control
from tradewind.api import shapes
from tradewind.api.deps import Actor, EngineDep, PageDep, Reader
from tradewind.definitions.serialized import SerializedDAG
from tradewind.store import dag_versions as dv
from tradewind.store import queries as q
from tradewind.store import reads
from tradewind.store.engine import session_scope
from tradewind.store.models import DagModel

router = APIRouter(prefix="/api/v2", tags=["DAG"])


class DAGPatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    is_paused: bool


def _serialized(session: Session, dag_ids: list[str]) -> dict[str, SerializedDAG]:
    return {d: SerializedDAG(data, digest) for d, (digest, data) in dv.latest_versions(session, dag_ids).items()}


def _error_files(session: Session) -> set[str]:
    return reads.import_error_files(session)


def dag_row_or_404(session: Session, dag_id: str) -> DagModel:
    row = q.get_dag(session, dag_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Dag with id {dag_id} was not found")
    return row


def serialized_or_404(engine: Engine, dag_id: str) -> SerializedDAG:
    try:
        return control.get_serialized_dag(engine, dag_id)
    except control.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Dag with id {dag_id} was not found") from None


def _shown(session: Session, rows: list[DagModel]) -> list[dict[str, Any]]:
    """The DAG rows as the API shows them (their latest versions and import errors read once)."""
    found = _serialized(session, [r.dag_id for r in rows])
    errors = _error_files(session)
    return [shapes.dag(r, found.get(r.dag_id), r.fileloc in errors) for r in rows]


def _one(session: Session, row: DagModel) -> dict[str, Any]:
    return _shown(session, [row])[0]


@router.get("/dags", summary="Get Dags")
def get_dags(
    _user: Reader,
    engine: EngineDep,
    page: PageDep,
    tags: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    tags_match_mode: Literal["any", "all"] | None = None,
    dag_id_pattern: str | None = None,
    dag_id_prefix_pattern: str | None = None,
    paused: bool | None = None,
    exclude_stale: bool = True,
    order_by: Annotated[list[str], Query()] = [],  # noqa: B006
) -> dict[str, Any]:
    with session_scope(engine) as session:
        rows, total = reads.page_dags(
            session,
            limit=page.limit,
            offset=page.offset,
            tags=tags,
            tags_match_all=tags_match_mode == "all",
            dag_id_pattern=dag_id_pattern,
            dag_id_prefix=dag_id_prefix_pattern,
            paused=paused,
            only_active=exclude_stale,
            order_by=order_by,
        )
        dags = _shown(session, rows)
    return {"dags": dags, "total_entries": total}


@router.patch("/dags", summary="Patch Dags")
def patch_dags(
    body: DAGPatchBody,
    _user: Actor,
    engine: EngineDep,
    page: PageDep,
    update_mask: Annotated[list[str] | None, Query()] = None,
    tags: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    tags_match_mode: Literal["any", "all"] | None = None,
    dag_id_pattern: str | None = None,
    dag_id_prefix_pattern: str | None = None,
    paused: bool | None = None,
    exclude_stale: bool = True,
) -> dict[str, Any]:
    """Pause or unpause every DAG of the page the filters select (as GET /dags would list it)."""
    if update_mask is not None and set(update_mask) - {"is_paused"}:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Only `is_paused` field can be updated through the REST API")
    with session_scope(engine) as session:
        rows, total = reads.page_dags(
            session,
            limit=page.limit,
            offset=page.offset,
            tags=tags,
            tags_match_all=tags_match_mode == "all",
            dag_id_pattern=dag_id_pattern,
            dag_id_prefix=dag_id_prefix_pattern,
            paused=paused,
            only_active=exclude_stale,
        )
        chosen = [r.dag_id for r in rows]
    for dag_id in chosen:
        control.set_paused(engine, dag_id, body.is_paused)
    with session_scope(engine) as session:
        changed = [dag_row_or_404(session, dag_id) for dag_id in chosen]
        return {"dags": _shown(session, changed), "total_entries": total}


@router.get("/dags/{dag_id}", summary="Get Dag")
def get_dag(dag_id: str, _user: Reader, engine: EngineDep) -> dict[str, Any]:
    with session_scope(engine) as session:
        return _one(session, dag_row_or_404(session, dag_id))


@router.patch("/dags/{dag_id}", summary="Patch Dag")
def patch_dag(
    dag_id: str,
    body: DAGPatchBody,
    _user: Actor,
    engine: EngineDep,
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    if update_mask is not None and set(update_mask) - {"is_paused"}:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Only `is_paused` field can be updated through the REST API")
    try:
        control.set_paused(engine, dag_id, body.is_paused)
    except control.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Dag with id {dag_id} was not found") from None
    with session_scope(engine) as session:
        return _one(session, dag_row_or_404(session, dag_id))


@router.get("/dags/{dag_id}/details", summary="Get Dag Details")
def get_dag_details(dag_id: str, _user: Reader, engine: EngineDep) -> dict[str, Any]:
    serialized = serialized_or_404(engine, dag_id)
    with session_scope(engine) as session:
        row = dag_row_or_404(session, dag_id)
        number, created = reads.version_history(session, [dag_id]).get(serialized.version, (None, None))
        latest = shapes.dag_version(dag_id, serialized.version, number, created)
        active = q.count_active_runs(session, [dag_id]).get(dag_id, 0)
        return shapes.dag_details(row, serialized, row.fileloc in _error_files(session), latest, active)


@router.get("/dags/{dag_id}/tasks", summary="Get Tasks")
def get_tasks(dag_id: str, _user: Reader, engine: EngineDep, order_by: str = "task_id") -> dict[str, Any]:
    serialized = serialized_or_404(engine, dag_id)
    if order_by.lstrip("-") != "task_id":
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Ordering with '{order_by}' is disallowed; use task_id")
    tasks = sorted(serialized.tasks, key=lambda t: t.task_id, reverse=order_by.startswith("-"))
    return {"tasks": [shapes.task(t, serialized) for t in tasks], "total_entries": len(tasks)}


@router.get("/dags/{dag_id}/tasks/{task_id}", summary="Get Task")
def get_task(dag_id: str, task_id: str, _user: Reader, engine: EngineDep) -> dict[str, Any]:
    serialized = serialized_or_404(engine, dag_id)
    found = serialized.task_dict.get(task_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Task with id {task_id} was not found")
    return shapes.task(found, serialized)
