"""Rows of the store as Airflow's API v2 JSON objects (DAGResponse, DAGRunResponse,
TaskInstanceResponse, ...): the same field names, every required field present. Fields that
mean nothing in tradewind (bundles, teams, triggerers) are null or their neutral value."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from tradewind.definitions.assets import asset_expression
from tradewind.definitions.serialized import SerializedDAG, SerializedTask
from tradewind.store.models import DagImportError, DagModel, DagRun, SlotPool, TaskInstance, XCom

NAMESPACE = uuid.UUID("5d0f5c3e-3f0c-4b8e-9a57-7472616465ff")  # ids derived from names, stable


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def stable_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(str(p) for p in parts)))


def _timedelta(value: timedelta | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"__type": "TimeDelta", "days": value.days, "seconds": value.seconds, "microseconds": value.microseconds}


def dag_version(dag_id: str, dag_hash: str | None, number: int | None, created_at: datetime | None) -> Any:
    if dag_hash is None or number is None:
        return None
    return {
        "id": stable_id(dag_id, dag_hash),
        "version_number": number,
        "dag_id": dag_id,
        "bundle_name": None,
        "bundle_version": None,
        "created_at": iso(created_at) or "1970-01-01T00:00:00+00:00",
        "dag_display_name": dag_id,
        "bundle_url": None,
    }


def dag(row: DagModel, serialized: SerializedDAG | None, has_import_errors: bool) -> dict[str, Any]:
    periodic = bool(serialized.timetable.periodic) if serialized is not None else False
    return {
        "dag_id": row.dag_id,
        "dag_display_name": row.dag_id,
        "is_paused": bool(row.is_paused),
        "is_stale": not row.is_active,
        "last_parsed_time": iso(row.last_parsed_at),
        "last_parse_duration": None,
        "last_expired": None,
        "bundle_name": None,
        "bundle_version": None,
        "relative_fileloc": row.fileloc.rsplit("/", 1)[-1] if row.fileloc else None,
        "fileloc": row.fileloc or "",
        "description": serialized.description if serialized is not None else None,
        "timetable_summary": row.schedule,
        "timetable_description": serialized.timetable.summary if serialized is not None else row.schedule,
        "timetable_partitioned": False,
        "timetable_periodic": periodic,
        "tags": [{"name": t, "dag_id": row.dag_id, "dag_display_name": row.dag_id} for t in row.tags or []],
        "max_active_tasks": serialized.max_active_tasks if serialized is not None else 16,
        "max_active_runs": row.max_active_runs,
        "max_consecutive_failed_dag_runs": 0,
        "has_task_concurrency_limits": bool(
            serialized and any(t.max_active_tis_per_dag or t.max_active_tis_per_dagrun for t in serialized.tasks)
        ),
        "has_import_errors": has_import_errors,
        "next_dagrun_logical_date": iso(row.next_dagrun),
        "next_dagrun_data_interval_start": iso(row.next_dagrun_data_interval_start),
        "next_dagrun_data_interval_end": iso(row.next_dagrun_data_interval_end),
        "next_dagrun_run_after": iso(row.next_dagrun_create_after),
        "allowed_run_types": None,
        "owners": [],
        "is_backfillable": periodic,
        "file_token": hashlib.sha256((row.fileloc or "").encode()).hexdigest()[:32],
    }


def dag_details(
    row: DagModel, serialized: SerializedDAG, has_import_errors: bool, latest: Any, active_runs: int
) -> dict[str, Any]:
    found = dag(row, serialized, has_import_errors)
    params = {
        name: (
            {
                "value": value.value if value.has_default else None,
                "description": value.description,
                "schema": value.schema,
            }
            if hasattr(value, "schema")
            else {"value": value, "description": None, "schema": {}}
        )
        for name, value in serialized.params.items()
    }
    timezone = serialized.data.get("timetable", {}).get("timezone")
    found.update(
        {
            "catchup": serialized.catchup,
            "dag_run_timeout": (
                f"PT{serialized.dagrun_timeout.total_seconds():g}S" if serialized.dagrun_timeout else None
            ),
            "asset_expression": asset_expression(serialized.data.get("asset_condition")),
            "doc_md": serialized.doc_md,
            "start_date": iso(serialized.start_date),
            "end_date": iso(serialized.end_date),
            "is_paused_upon_creation": serialized.is_paused_upon_creation,
            "params": params,
            "render_template_as_native_obj": False,
            "template_search_path": None,
            "timezone": timezone if isinstance(timezone, str) else "UTC",
            "last_parsed": iso(row.last_parsed_at),
            "default_args": None,
            "rerun_with_latest_version": None,
            "owner_links": None,
            "is_favorite": False,
            "active_runs_count": active_runs,
            "concurrency": serialized.max_active_tasks,
            "latest_dag_version": latest,
        }
    )
    return found


def task(item: SerializedTask, serialized: SerializedDAG) -> dict[str, Any]:
    return {
        "task_id": item.task_id,
        "task_display_name": item.task_id,
        "owner": None,
        "start_date": iso(serialized.start_date),
        "end_date": iso(serialized.end_date),
        "trigger_rule": str(item.trigger_rule),
        "depends_on_past": False,
        "wait_for_downstream": False,
        "retries": item.retries,
        "queue": None,
        "pool": item.pool,
        "pool_slots": item.pool_slots,
        "execution_timeout": _timedelta(item.execution_timeout),
        "retry_delay": _timedelta(item.retry_delay),
        "retry_exponential_backoff": 2.0 if item.retry_exponential_backoff else 0.0,
        "priority_weight": None,
        "weight_rule": None,
        "ui_color": None,
        "ui_fgcolor": None,
        "template_fields": [],
        "downstream_task_ids": sorted(item.downstream_task_ids),
        "doc_md": item.doc_md,
        "operator_name": item.operator_name,
        "params": None,
        "class_ref": None,
        "is_mapped": item.expands_at_run_time,
        "extra_links": [],
    }


def dag_run(row: DagRun, versions: dict[str, int], created: dict[str, datetime] | None = None) -> dict[str, Any]:
    number = versions.get(row.dag_hash) if row.dag_hash else None
    version = dag_version(row.dag_id, row.dag_hash, number, (created or {}).get(row.dag_hash or ""))
    duration = (row.end_date - row.start_date).total_seconds() if row.end_date and row.start_date else None
    return {
        "dag_run_id": row.run_id,
        "dag_id": row.dag_id,
        "logical_date": iso(row.logical_date),
        "queued_at": iso(row.queued_at),
        "start_date": iso(row.start_date),
        "end_date": iso(row.end_date),
        "duration": duration,
        "data_interval_start": iso(row.data_interval_start),
        "data_interval_end": iso(row.data_interval_end),
        "run_after": iso(row.run_after or row.logical_date),
        "last_scheduling_decision": None,
        "run_type": row.run_type,
        "state": row.state,
        "triggered_by": {"manual": "rest_api", "backfill": "backfill", "asset_triggered": "asset"}.get(
            row.run_type, "timetable"
        ),
        "triggering_user_name": None,
        "conf": row.conf or {},
        "note": None,
        "dag_versions": [version] if version else [],
        "bundle_version": None,
        "dag_display_name": row.dag_id,
        "partition_key": None,
        "partition_date": None,
    }


def max_tries(row: TaskInstance, task: SerializedTask | None) -> int:
    """Airflow's max_tries (retries allowed; a try may run while try_number <= max_tries): tradewind
    stores the total number of tries allowed once a clear has set it, else nothing (0)."""
    if row.max_tries:
        return max(row.max_tries - 1, 0)
    return task.retries if task is not None else 0


def task_instance(row: TaskInstance, run: DagRun, task: SerializedTask | None, version: Any) -> dict[str, Any]:
    return {
        "id": stable_id(row.dag_id, row.run_id, row.task_id, row.map_index),
        "task_id": row.task_id,
        "dag_id": row.dag_id,
        "dag_run_id": row.run_id,
        "map_index": row.map_index,
        "logical_date": iso(run.logical_date),
        "run_after": iso(run.run_after or run.logical_date),
        "start_date": iso(row.start_date),
        "end_date": iso(row.end_date),
        "duration": row.duration,
        "state": row.state,
        "try_number": row.try_number,
        "max_tries": max_tries(row, task),
        "task_display_name": row.task_id,
        "dag_display_name": row.dag_id,
        "hostname": row.hostname,
        "unixname": None,
        "pool": task.pool if task is not None else "default_pool",
        "pool_slots": task.pool_slots if task is not None else 1,
        "queue": None,
        "priority_weight": None,
        "operator": task.operator_name if task is not None else None,
        "operator_name": task.operator_name if task is not None else None,
        "queued_when": iso(row.queued_at),
        "scheduled_when": None,
        "pid": row.pid,
        "executor": None,
        "executor_config": "{}",
        "note": None,
        "rendered_map_index": row.rendered_map_index,
        "rendered_fields": {},
        "trigger": None,
        "triggerer_job": None,
        "dag_version": version,
    }


def try_of(
    row: TaskInstance, task: SerializedTask | None, try_number: int, state: str | None, started: Any, ended: Any
) -> dict[str, Any]:
    return {
        "task_id": row.task_id,
        "dag_id": row.dag_id,
        "dag_run_id": row.run_id,
        "map_index": row.map_index,
        "start_date": iso(started),
        "end_date": iso(ended),
        "duration": (ended - started).total_seconds() if started and ended else None,
        "state": state,
        "try_number": try_number,
        "max_tries": max_tries(row, task),
        "task_display_name": row.task_id,
        "dag_display_name": row.dag_id,
        "hostname": row.hostname if try_number == row.try_number else None,  # kept for the newest try only
        "unixname": None,
        "pool": task.pool if task is not None else "default_pool",
        "pool_slots": task.pool_slots if task is not None else 1,
        "queue": None,
        "priority_weight": None,
        "operator": task.operator_name if task is not None else None,
        "operator_name": task.operator_name if task is not None else None,
        "queued_when": None,
        "scheduled_when": None,
        "pid": row.pid if try_number == row.try_number else None,
        "executor": None,
        "executor_config": "{}",
        "dag_version": None,
    }


def xcom(row: XCom, run: DagRun, value: Any = None, with_value: bool = False) -> dict[str, Any]:
    found = {
        "key": row.key,
        "timestamp": iso(run.end_date or run.start_date or run.logical_date or run.run_after),
        "logical_date": iso(run.logical_date),
        "map_index": row.map_index,
        "task_id": row.task_id,
        "dag_id": row.dag_id,
        "run_id": row.run_id,
        "dag_display_name": row.dag_id,
        "task_display_name": row.task_id,
        "run_after": iso(run.run_after or run.logical_date),
    }
    if with_value:
        found["value"] = value
    return found


def import_error(row: DagImportError) -> dict[str, Any]:
    return {
        "import_error_id": row.id,
        "timestamp": iso(row.timestamp),
        "filename": row.filename,
        "bundle_name": None,
        "stack_trace": row.error,
    }


def pool(row: SlotPool, used: dict[str, int]) -> dict[str, Any]:
    running, queued, scheduled = used.get("running", 0), used.get("queued", 0), used.get("scheduled", 0)
    occupied = running + queued
    return {
        "name": row.name,
        "slots": row.slots,
        "description": row.description,
        "include_deferred": False,
        "occupied_slots": occupied,
        "running_slots": running,
        "queued_slots": queued,
        "scheduled_slots": scheduled,
        "open_slots": max(row.slots - occupied, 0),
        "deferred_slots": 0,
        "team_name": None,
    }
