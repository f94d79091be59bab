"""DAG runs: list (one DAG, or every DAG with ``~``), get, trigger, set state."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from tradewind import control
from tradewind.api import shapes
from tradewind.api.deps import Actor, EngineDep, PageDep, Reader
from tradewind.definitions.states import DagRunState
from tradewind.store import queries as q
from tradewind.store import reads
from tradewind.store.engine import session_scope
from tradewind.store.models import DagRun

router = APIRouter(prefix="/api/v2", tags=["DagRun"])

RUN_TYPES = ("scheduled", "manual", "backfill", "asset_triggered")


class TriggerDAGRunPostBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dag_run_id: str | None = Field(default=None, min_length=1, max_length=250)
    logical_date: datetime | None = None
    conf: dict[str, Any] | None = None
    data_interval_start: AwareDatetime | None = None
    data_interval_end: AwareDatetime | None = None
    run_after: AwareDatetime | None = None
    note: str | None = None
    partition_key: str | None = None


class DAGRunPatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: str | None = None
    note: str | None = Field(default=None, max_length=1000)


def versions_of(session: Session, dag_ids: set[str]) -> tuple[dict[str, int], dict[str, datetime]]:
    """hash -> version number, hash -> created_at of the DAGs' stored versions."""
    history = reads.version_history(session, dag_ids)
    return {h: n for h, (n, _) in history.items()}, {h: at for h, (_, at) in history.items()}


def run_or_404(session: Session, dag_id: str, run_id: str) -> DagRun:
    run = q.get_dag_run(session, dag_id, run_id)
    if run is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found"
        )
    return run


def shape_run(session: Session, run: DagRun) -> dict[str, Any]:
    numbers, created = versions_of(session, {run.dag_id})
    return shapes.dag_run(run, numbers, created)


def _states(values: list[str], known: tuple[str, ...], what: str) -> list[str]:
    for value in values:
        if value not in known:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, f"Invalid value for {what}: {value!r}. Valid values are {', '.join(known)}"
            )
    return values


@router.get("/dags/{dag_id}/dagRuns", summary="Get Dag Runs")
def get_dag_runs(
    dag_id: str,
    _user: Reader,
    engine: EngineDep,
    page: PageDep,
    state: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    run_type: Annotated[list[str], Query()] = [],  # noqa: B006
    logical_date_gte: datetime | None = None,
    logical_date_lte: datetime | None = None,
    run_id_pattern: str | None = None,
    order_by: Annotated[list[str], Query()] = [],  # noqa: B006
) -> dict[str, Any]:
    states = _states(state, tuple(str(s) for s in DagRunState), "state")
    run_types = _states(run_type, RUN_TYPES, "run_type")
    with session_scope(engine) as session:
        if dag_id != "~" and q.get_dag(session, dag_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"The Dag with ID: `{dag_id}` was not found")
        rows, total = reads.page_dag_runs(
            session,
            None if dag_id == "~" else dag_id,
            limit=page.limit,
            offset=page.offset,
            states=states,
            run_types=run_types,
            logical_date_gte=logical_date_gte,
            logical_date_lte=logical_date_lte,
            run_id_pattern=run_id_pattern,
            order_by=order_by,
        )
        numbers, created = versions_of(session, {r.dag_id for r in rows})
        return {"dag_runs": [shapes.dag_run(r, numbers, created) for r in rows], "total_entries": total}


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}", summary="Get Dag Run")
def get_dag_run(dag_id: str, dag_run_id: str, _user: Reader, engine: EngineDep) -> dict[str, Any]:
    with session_scope(engine) as session:
        return shape_run(session, run_or_404(session, dag_id, dag_run_id))


def _refuse(body: BaseModel, fields: tuple[str, ...], why: str) -> None:
    given = [name for name in fields if getattr(body, name) is not None]
    if given:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{', '.join(given)}: {why}")


@router.post("/dags/{dag_id}/dagRuns", summary="Trigger Dag Run")
def trigger_dag_run(dag_id: str, body: TriggerDAGRunPostBody, _user: Actor, engine: EngineDep) -> dict[str, Any]:
    _refuse(
        body,
        ("data_interval_start", "data_interval_end", "run_after", "partition_key"),
        "not supported by tradewind: the data interval follows from logical_date and the DAG's schedule",
    )
    _refuse(body, ("note",), "tradewind does not store notes")
    run = control.trigger_run(engine, dag_id, conf=body.conf, logical_date=body.logical_date, run_id=body.dag_run_id)
    with session_scope(engine) as session:
        return shape_run(session, run_or_404(session, dag_id, run.run_id))


@router.patch("/dags/{dag_id}/dagRuns/{dag_run_id}", summary="Patch Dag Run")
def patch_dag_run(
    dag_id: str,
    dag_run_id: str,
    body: DAGRunPatchBody,
    _user: Actor,
    engine: EngineDep,
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    fields = set(update_mask) if update_mask is not None else set(body.model_fields_set)
    unknown = fields - {"state", "note"}
    if unknown:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Invalid update_mask field(s): {', '.join(sorted(unknown))}")
    if "note" in fields and body.note is not None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "note: tradewind does not store notes")
    if "state" in fields:
        if body.state is None:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "state: give one of queued, success, failed")
        control.set_run_state(engine, dag_id, dag_run_id, body.state)
    with session_scope(engine) as session:
        return shape_run(session, run_or_404(session, dag_id, dag_run_id))
