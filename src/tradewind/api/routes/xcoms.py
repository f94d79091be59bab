"""A task's XComs in a run: the list, and one value."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from tradewind.api import shapes
from tradewind.api.deps import EngineDep, PageDep, Reader
from tradewind.api.routes.runs import run_or_404
from tradewind.api.routes.task_instances import MAX_MAP_INDEX, MapIndex
from tradewind.store import reads
from tradewind.store.engine import session_scope

router = APIRouter(prefix="/api/v2", tags=["XCom"])


@router.get(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries",
    summary="Get Xcom Entries",
    tags=["XCom"],
)
def get_xcom_entries(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    _user: Reader,
    engine: EngineDep,
    page: PageDep,
    xcom_key: str | None = None,
    map_index: Annotated[int | None, Query(ge=-1, le=MAX_MAP_INDEX)] = None,
) -> dict[str, Any]:
    with session_scope(engine) as session:
        run = run_or_404(session, dag_id, dag_run_id)
        rows, total = reads.page_xcoms(
            session,
            dag_id,
            dag_run_id,
            task_id,
            limit=page.limit,
            offset=page.offset,
            key=xcom_key,
            map_index=map_index,
        )
        return {"xcom_entries": [shapes.xcom(r, run) for r in rows], "total_entries": total}


def _json_value(value: Any) -> Any:
    from tradewind import serde

    return serde.encode(value)


@router.get(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries/{xcom_key}",
    summary="Get Xcom Entry",
    tags=["XCom"],
)
def get_xcom_entry(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    xcom_key: str,
    _user: Reader,
    engine: EngineDep,
    map_index: MapIndex = -1,
    deserialize: bool = False,
    stringify: bool = False,
) -> dict[str, Any]:
    """One XCom with its value: as stored JSON (datetimes and tuples tagged), or, with
    ``stringify``, as text."""
    with session_scope(engine) as session:
        run = run_or_404(session, dag_id, dag_run_id)
        rows, _ = reads.page_xcoms(session, dag_id, dag_run_id, task_id, limit=1, key=xcom_key, map_index=map_index)
        if not rows:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"XCom entry with key: `{xcom_key}` not found")
        value = rows[0].value
        shown = str(value) if stringify else _json_value(value)
        return shapes.xcom(rows[0], run, shown, with_value=True)
