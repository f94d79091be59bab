"""Task instances of a run (mapped ones included), their tries, logs and XComs, and clearing."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from tradewind import control
from tradewind.api import shapes
from tradewind.api.deps import Actor, EngineDep, PageDep, Reader, SettingsDep
from tradewind.api.routes.runs import run_or_404, shape_run, versions_of
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.serialized import SerializedDAG
from tradewind.definitions.states import TaskInstanceState
from tradewind.runtime.durable import result_from_log
from tradewind.runtime.logs import TaskLogNotFound, read_task_log, task_log_file, task_log_tries
from tradewind.store import dag_versions as dv
from tradewind.store import queries as q
from tradewind.store import reads
from tradewind.store.engine import session_scope
from tradewind.store.models import DagRun, TaskInstance

router = APIRouter(prefix="/api/v2", tags=["Task Instance"])

TI_STATES = tuple(str(s) for s in TaskInstanceState)
MAX_MAP_INDEX = 2**31 - 1
MapIndex = Annotated[int, Query(ge=-1, le=MAX_MAP_INDEX)]


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


def _version(session: Session, run: DagRun) -> tuple[SerializedDAG | None, Any]:
    if run.dag_hash is None:
        return None, None
    found = dv.get_version(session, run.dag_id, run.dag_hash)
    if found is None:
        return None, None
    _, created = versions_of(session, {run.dag_id})
    version = shapes.dag_version(run.dag_id, run.dag_hash, found[0], created.get(run.dag_hash))
    return SerializedDAG(found[1], run.dag_hash), version


def _shape_all(session: Session, run: DagRun, rows: list[TaskInstance]) -> list[dict[str, Any]]:
    serialized, version = _version(session, run)
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
        return {"task_instances": _shape_all(session, run, rows), "total_entries": total}


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
        found = [_shape_all(session, run, [row])[0] for row, run in pairs]
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


def _instance(session: Session, dag_id: str, run_id: str, task_id: str, map_index: int) -> tuple[DagRun, TaskInstance]:
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
        run, row = _instance(session, dag_id, run_id, task_id, map_index)
        return _shape_all(session, run, [row])[0]


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}", summary="Get Task Instance")
def get_task_instance(dag_id: str, dag_run_id: str, task_id: str, _user: Reader, engine: EngineDep) -> dict[str, Any]:
    return _one(engine, dag_id, dag_run_id, task_id, -1)


def _tries(engine: Any, logs: Any, dag_id: str, run_id: str, task_id: str, map_index: int) -> dict[str, Any]:
    with session_scope(engine) as session:
        run, row = _instance(session, dag_id, run_id, task_id, map_index)
        serialized, _ = _version(session, run)
    task = serialized.task_dict.get(task_id) if serialized is not None else None
    found = []
    for number in task_log_tries(logs, dag_id, run_id, task_id, map_index):
        key = TaskInstanceKey(dag_id, run_id, task_id, map_index, number)
        result = result_from_log(task_log_file(logs, dag_id, run_id, task_id, map_index, number), key)
        if result is not None:
            found.append(shapes.try_of(row, task, number, str(result.state), result.started_at, result.ended_at))
        elif number == row.try_number:
            found.append(shapes.try_of(row, task, number, row.state, row.start_date, row.end_date))
        else:
            found.append(shapes.try_of(row, task, number, None, None, None))
    return {"task_instances": found, "total_entries": len(found)}


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/tries", summary="Get Task Instance Tries")
def get_task_instance_tries(
    dag_id: str, dag_run_id: str, task_id: str, _user: Reader, engine: EngineDep, settings: SettingsDep
) -> dict[str, Any]:
    return _tries(engine, settings.logs_folder, dag_id, dag_run_id, task_id, -1)


@router.get(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}/tries",
    summary="Get Mapped Task Instance Tries",
)
def get_mapped_task_instance_tries(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: Annotated[int, Path(ge=-1, le=MAX_MAP_INDEX)],
    _user: Reader,
    engine: EngineDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    return _tries(engine, settings.logs_folder, dag_id, dag_run_id, task_id, map_index)


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{try_number}", summary="Get Log")
def get_log(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    try_number: Annotated[int, Path(ge=0, le=MAX_MAP_INDEX)],
    _user: Reader,
    engine: EngineDep,
    settings: SettingsDep,
    full_content: bool = False,
    map_index: MapIndex = -1,
    token: str | None = None,
) -> dict[str, Any]:
    """One try's log, the internal result line hidden. ``token`` is the ``continuation_token`` of
    the previous call: the text written since then (to follow a running try)."""
    with session_scope(engine) as session:
        _instance(session, dag_id, dag_run_id, task_id, map_index)
    offset = 0
    if token is not None and not full_content:
        if not token.isdigit() or len(token) > 18:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, "Bad Signature. Please use only the tokens provided by the API."
            )
        offset = int(token)
    text_parts: list[str] = []
    try:
        while True:
            text, offset_after = read_task_log(
                settings.logs_folder, dag_id, dag_run_id, task_id, map_index, try_number, offset
            )
            text_parts.append(text)
            if offset_after == offset or not full_content:
                offset = offset_after
                break
            offset = offset_after
    except TaskLogNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    lines = "".join(text_parts).splitlines()
    return {"content": [structured_log_line(line) for line in lines], "continuation_token": str(offset)}


_LOG_LINE = re.compile(
    r"\[(?P<timestamp>\d{4}-\d\d-\d\dT[\d:.]+Z)\] \{(?P<logger>[^}]*)\} (?P<level>[A-Z]+) - (?P<event>.*)"
)


def structured_log_line(line: str) -> dict[str, Any]:
    """One log line as Airflow's StructuredLogMessage: ``[time] {task} LEVEL - text`` gives
    timestamp, logger, level and event; any other line (a traceback's) is all event."""
    found = _LOG_LINE.fullmatch(line)
    if found is None:
        return {"event": line}
    return {
        "timestamp": found["timestamp"],
        "event": found["event"],
        "level": found["level"].lower(),
        "logger": found["logger"],
    }


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
        by_run: dict[str, list[tuple[str, int]]] = {}
        for item in cleared:
            by_run.setdefault(item.run_id, []).append((item.task_id, item.map_index))
        for run_id, keys in by_run.items():
            run = run_or_404(session, dag_id, run_id)
            wanted = set(keys)
            rows = [
                r
                for r in q.list_task_instances(session, dag_id, run_id, {t for t, _ in keys})
                if (r.task_id, r.map_index) in wanted
            ]
            found.extend(_shape_all(session, run, rows))
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
