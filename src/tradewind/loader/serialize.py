"""A DAG's structure as plain JSON, for the store and the API: what it is, not how it runs."""

from __future__ import annotations

from typing import Any

from tradewind.definitions.dag import DAG


def _operator_name(task: Any) -> str:
    operator = getattr(task, "operator_class", type(task))
    return str(getattr(operator, "custom_operator_name", operator.__name__))


def serialize_dag(dag: DAG) -> dict[str, Any]:
    """Every field has a plain JSON type; readers must tolerate fields they do not know."""
    return {
        "dag_id": dag.dag_id,
        "fileloc": dag.fileloc,
        "description": dag.description,
        "schedule": dag.timetable.summary,
        "start_date": dag.start_date.isoformat() if dag.start_date else None,
        "end_date": dag.end_date.isoformat() if dag.end_date else None,
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "tags": list(dag.tags),
        "params": sorted(dag.params),
        "tasks": [
            {
                "task_id": task.task_id,
                "operator": _operator_name(task),
                "mapped": task.expands_at_run_time,
                "group": task.task_group.group_id if task.task_group else None,
                "trigger_rule": str(task.trigger_rule),
                "retries": task.retries,
                "pool": task.pool,
                "upstream": sorted(task.upstream_task_ids),
            }
            for task in dag.topological_sort()
        ],
    }
