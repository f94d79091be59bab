"""A task instance's tries and the log of each try (the internal result line hidden)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status

from tradewind.api import shapes
from tradewind.api.deps import EngineDep, Reader, SettingsDep
from tradewind.api.routes.task_instances import MAX_MAP_INDEX, MapIndex, instance_or_404, run_version
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.runtime.durable import result_from_log
from tradewind.runtime.logs import TaskLogNotFound, read_task_log, task_log_file, task_log_tries
from tradewind.store.engine import session_scope

router = APIRouter(prefix="/api/v2", tags=["Task Instance"])


def _tries(engine: Any, logs: Any, dag_id: str, run_id: str, task_id: str, map_index: int) -> dict[str, Any]:
    with session_scope(engine) as session:
        run, row = instance_or_404(session, dag_id, run_id, task_id, map_index)
        serialized, _ = run_version(session, run)
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
        instance_or_404(session, dag_id, dag_run_id, task_id, map_index)
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
