"""Task instances of a run, mapped ones included: pages (of one run, or of every run) and one instance."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from sqlalchemy.orm import Session

from tradewind.api import shapes
from tradewind.api.deps import EngineDep, PageDep, Reader
from tradewind.api.routes.runs import run_or_404, versions_of
from tradewind.definitions.serialized import SerializedDAG
from tradewind.definitions.states import TaskInstanceState
from tradewind.store import dag_versions as dv
from tradewind.store import queries as q
from tradewind.store import reads
from tradewind.store.engine import session_scope
from tradewind.store.models import DagRun, TaskInstance

router = APIRouter(prefix="/api/v2", tags=["Task Instance"])

TI_STATES = tuple(str(s) for s in TaskInstanceState)
MAX_MAP_INDEX = 2**31 - 1
MapIndex = Annotated[int, Query(ge=-1, le=MAX_MAP_INDEX)]


def run_version(session: Session, run: DagRun) -> tuple[SerializedDAG | None, Any]:
    if run.dag_hash is None:
        return None, None
    found = dv.get_version(session, run.dag_id, run.dag_hash)
    if found is None:
        return None, None
    _, created = versions_of(session, {run.dag_id})
    version = shapes.dag_version(run.dag_id, run.dag_hash, found[0], created.get(run.dag_hash))
    return SerializedDAG(found[1], run.dag_hash), version


def shape_instances(session: Session, run: DagRun, rows: list[TaskInstance]) -> list[dict[str, Any]]:
    serialized, version = run_version(session, run)
    tasks = serialized.task_dict if serialized is not None else {}
    return [shapes.task_instance(r, run, tasks.get(r.task_id), version) for r in rows]


def _check_states(values: list[str]) -> list[str | None]:
    wanted: list[str | None] = []
    for value in values:
        if value in ("none", "null", ""):
            wanted.append(None)
        elif value in TI_STATES:
            wanted.append(value)
        else:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                f"Invalid value for state: {value!r}. Valid values are {', '.join(TI_STATES)}, none",
            )
    return wanted


def _page(
    engine: Any,
    dag_id: str,
    dag_run_id: str,
    page: Any,
    *,
    task_id: str | None,
    state: list[str],
    map_index: list[int],
    mapped_only: bool = False,
) -> dict[str, Any]:
    states = _check_states(state) or None
    if any(not -1 <= i <= MAX_MAP_INDEX for i in map_index):
        raise HTTPException(422, f"map_index must be between -1 and {MAX_MAP_INDEX}, got {map_index}")
    if dag_run_id == "~" and not mapped_only:
        return _across_runs(engine, dag_id, page, task_id=task_id, states=states, map_index=map_index)
    with session_scope(engine) as session:
        run = run_or_404(session, dag_id, dag_run_id)
        indexes: list[int] | None = list(map_index) or None
        rows, total = q.page_task_instances(
            session,
            dag_id,
            dag_run_id,
            states=states,
            task_id=task_id,
            limit=page.limit,
            offset=page.offset,
            map_indexes=indexes,
        )
        if mapped_only:
            if total and rows and all(r.map_index < 0 for r in rows) and indexes is None and page.offset == 0:
                rows, total = [], 0  # listMapped of a task that is not mapped (yet): nothing
        return {"task_instances": shape_instances(session, run, rows), "total_entries": total}


def _across_runs(
    engine: Any, dag_id: str, page: Any, *, task_id: str | None, states: Any, map_index: list[int]
) -> dict[str, Any]:
    """``dag_run_id`` ``~``: the instances of every run of the DAG (``dag_id`` ``~``: of every DAG)."""
    with session_scope(engine) as session:
        if dag_id != "~" and q.get_dag(session, dag_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"The Dag with ID: `{dag_id}` was not found")
        pairs, total = reads.page_task_instances_across_runs(
            session,
            None if dag_id == "~" else dag_id,
            limit=page.limit,
            offset=page.offset,
            states=states,
            task_id=task_id,
            map_indexes=list(map_index) or None,
        )
        found = [shape_instances(session, run, [row])[0] for row, run in pairs]
        return {"task_instances": found, "total_entries": total}


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances", summary="Get Task Instances")
def get_task_instances(
    dag_id: str,
    dag_run_id: str,
    _user: Reader,
    engine: EngineDep,
    page: PageDep,
    task_id: str | None = None,
    state: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    map_index: Annotated[list[int], Query()] = [],  # noqa: B006
) -> dict[str, Any]:
    return _page(engine, dag_id, dag_run_id, page, task_id=task_id, state=state, map_index=map_index)


@router.get(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/listMapped", summary="Get Mapped Task Instances"
)
def get_mapped_task_instances(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    _user: Reader,
    engine: EngineDep,
    page: PageDep,
    state: Annotated[list[str], Query()] = [],  # noqa: B006
    map_index: Annotated[list[int], Query()] = [],  # noqa: B006
) -> dict[str, Any]:
    found = _page(engine, dag_id, dag_run_id, page, task_id=task_id, state=state, map_index=map_index, mapped_only=True)
    if not found["total_entries"]:
        with session_scope(engine) as session:
            if not q.page_task_instances(session, dag_id, dag_run_id, task_id=task_id, limit=1)[1]:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"Task id {task_id} not found")
    return found


def instance_or_404(
    session: Session, dag_id: str, run_id: str, task_id: str, map_index: int
) -> tuple[DagRun, TaskInstance]:
    run = run_or_404(session, dag_id, run_id)
    rows, _ = q.page_task_instances(session, dag_id, run_id, task_id=task_id, map_indexes=[map_index], limit=1)
    if not rows:
        if map_index == -1 and q.page_task_instances(session, dag_id, run_id, task_id=task_id, limit=1)[1]:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, "Task instance is mapped, add the map_index value to the URL"
            )
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"The Task Instance with dag_id: `{dag_id}`, run_id: `{run_id}`, task_id: `{task_id}` and "
            f"map_index: `{map_index}` was not found",
        )
    return run, rows[0]


def _one(engine: Any, dag_id: str, run_id: str, task_id: str, map_index: int) -> dict[str, Any]:
    with session_scope(engine) as session:
        run, row = instance_or_404(session, dag_id, run_id, task_id, map_index)
        return shape_instances(session, run, [row])[0]


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}", summary="Get Task Instance")
def get_task_instance(dag_id: str, dag_run_id: str, task_id: str, _user: Reader, engine: EngineDep) -> dict[str, Any]:
    return _one(engine, dag_id, dag_run_id, task_id, -1)


@router.get(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}", summary="Get Mapped Task Instance"
)
def get_mapped_task_instance(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: Annotated[int, Path(ge=-1, le=MAX_MAP_INDEX)],
    _user: Reader,
    engine: EngineDep,
) -> dict[str, Any]:
    return _one(engine, dag_id, dag_run_id, task_id, map_index)
