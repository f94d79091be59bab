"""Clearing task instances (by task, map index, failures) and whole runs, so they run again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from tradewind import control
from tradewind.api.deps import Actor, EngineDep
from tradewind.api.routes.runs import run_or_404, shape_run
from tradewind.api.routes.task_instances import shape_instances
from tradewind.store import queries as q
from tradewind.store.engine import session_scope

router = APIRouter(prefix="/api/v2", tags=["Task Instance"])


class ClearTaskInstancesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dry_run: bool = True
    only_failed: bool = True
    task_ids: list[str | tuple[str, int]] | None = None
    dag_run_id: str | None = None
    include_downstream: bool = False
    include_upstream: bool = False
    include_future: bool = False
    include_past: bool = False
    only_running: bool = False
    reset_dag_runs: bool = True
    start_date: datetime | None = None
    end_date: datetime | None = None
    run_on_latest_version: bool | None = None
    prevent_running_task: bool = False
    note: str | None = Field(default=None, max_length=1000)


@router.post("/dags/{dag_id}/clearTaskInstances", summary="Post Clear Task Instances")
def post_clear_task_instances(
    dag_id: str, body: ClearTaskInstancesBody, _user: Actor, engine: EngineDep
) -> dict[str, Any]:
    unsupported = [
        name
        for name, default in (
            ("include_upstream", False),
            ("include_future", False),
            ("include_past", False),
            ("only_running", False),
            ("reset_dag_runs", True),
            ("start_date", None),
            ("end_date", None),
            ("run_on_latest_version", None),
            ("prevent_running_task", False),
            ("note", None),
        )
        if getattr(body, name) != default
    ]
    if unsupported:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"not supported by tradewind: {', '.join(unsupported)} (clear by dag_run_id, task_ids, "
            "only_failed and include_downstream; a cleared run always goes back to queued)",
        )
    cleared = control.clear_task_instances(
        engine,
        dag_id,
        run_id=body.dag_run_id,
        task_ids=body.task_ids,
        only_failed=body.only_failed,
        include_downstream=body.include_downstream,
        dry_run=body.dry_run,
    )
    return _shape_cleared(engine, dag_id, cleared)


def _shape_cleared(engine: Any, dag_id: str, cleared: list[control.ClearedInstance]) -> dict[str, Any]:
    with session_scope(engine) as session:
        found: list[dict[str, Any]] = []
        by_run: dict[tuple[str, str], list[tuple[str, int]]] = {}
        for item in cleared:  # (an ExternalTaskMarker's target is in another DAG)
            by_run.setdefault((item.dag_id or dag_id, item.run_id), []).append((item.task_id, item.map_index))
        for (run_dag_id, run_id), keys in by_run.items():
            run = run_or_404(session, run_dag_id, run_id)
            wanted = set(keys)
            rows = [
                r
                for r in q.list_task_instances(session, run_dag_id, run_id, {t for t, _ in keys})
                if (r.task_id, r.map_index) in wanted
            ]
            found.extend(shape_instances(session, run, rows))
    return {"task_instances": found, "total_entries": len(found)}


class DAGRunClearBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dry_run: bool = True
    only_failed: bool = False
    only_new: bool = False
    run_on_latest_version: bool | None = None
    note: str | None = Field(default=None, max_length=1000)


@router.post("/dags/{dag_id}/dagRuns/{dag_run_id}/clear", summary="Clear Dag Run", tags=["DagRun"])
def clear_dag_run(
    dag_id: str, dag_run_id: str, body: DAGRunClearBody, _user: Actor, engine: EngineDep
) -> dict[str, Any]:
    """Run a whole run again (or only its failed instances): with ``dry_run`` the instances that
    would be cleared, else the run, back to queued."""
    refused = [n for n, v in (("only_new", body.only_new), ("run_on_latest_version", body.run_on_latest_version)) if v]
    if body.note is not None:
        refused.append("note")
    if refused:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"not supported by tradewind: {', '.join(refused)}")
    with session_scope(engine) as session:
        run_or_404(session, dag_id, dag_run_id)
    cleared = control.clear_task_instances(
        engine, dag_id, run_id=dag_run_id, only_failed=body.only_failed, dry_run=body.dry_run
    )
    if body.dry_run:
        return _shape_cleared(engine, dag_id, cleared)
    with session_scope(engine) as session:
        return shape_run(session, run_or_404(session, dag_id, dag_run_id))
