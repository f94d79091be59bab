"""Airflow names DAG files mostly use as type hints (``Context``, ``TaskInstance``, ``DagRun``),
and the small wrappers ``literal`` and ``ParamsDict``.

``def f(ti: TaskInstance, **context: Context)`` must import; tradewind hands the task its own
task instance and context at run time, so these classes only describe them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class Context(dict[str, Any]):
    """The template context a task receives (``ds``, ``ti``, ``params``, ``dag_run``, ...)."""


class _TypeHintOnly:
    """A class a DAG file names in type hints; tradewind makes the real objects itself."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            f"{type(self).__name__} cannot be created in a DAG file on tradewind: tasks receive theirs "
            "(as 'ti' / 'dag_run' in the context); use the name only as a type hint"
        )


class TaskInstance(_TypeHintOnly):
    """The running task instance: ``dag_id``, ``task_id``, ``run_id``, ``map_index``,
    ``try_number``, ``xcom_push``, ``xcom_pull``."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int
    try_number: int
    logical_date: datetime

    def xcom_push(self, key: str, value: Any) -> None: ...
    def xcom_pull(self, task_ids: Any = None, key: str = "return_value", **kwargs: Any) -> Any: ...


class DagRun(_TypeHintOnly):
    """The run a task belongs to: ``dag_id``, ``run_id``, ``run_type``, ``logical_date``,
    ``data_interval_start``, ``data_interval_end``, ``conf``."""

    dag_id: str
    run_id: str
    run_type: str
    conf: dict[str, Any]


class literal:
    """A value that is passed to the task as it is, never rendered as a template.

    >>> BashOperator(task_id="echo", bash_command=literal("echo {{ not a template }}"))
    """

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"literal({self.value!r})"


class ParamsDict(dict[str, Any]):
    """A DAG's params, by name (a plain dict here)."""
