"""Airflow arguments tradewind accepts but does not (yet) act on: each gives an import warning.

A DAG written for Airflow that sets one of these would behave differently here without a word;
instead the DAG collects one warning per argument (naming the tasks that set it), the DAG
processor stores the warnings with the DAG's version, ``tradewind dags list-import-warnings``
lists them and ``dags test`` prints them. An argument left at Airflow's default gives none.
See docs/adr/0011-airflow-surface-and-warnings.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_NO_EMAIL = "sends no email: tradewind has no mail settings"
_ONE_EXECUTOR = "is ignored: every task runs on the executor tradewind is started with"

# argument -> (value that means "not used", what tradewind does instead)
# (task callbacks are called: runtime/callbacks.py)
TASK_ARGUMENTS: dict[str, tuple[Any, str]] = {
    "sla": (None, "is ignored: tradewind has no SLA checks (Airflow 3 removed them too)"),
    "email": (None, _NO_EMAIL),
    "executor": (None, _ONE_EXECUTOR),
    "executor_config": (None, _ONE_EXECUTOR),
    "queue": ("default", _ONE_EXECUTOR),
    "run_as_user": (None, "is ignored: tasks run as the user running tradewind"),
    "resources": (None, _ONE_EXECUTOR),
    # inlets and outlets: assets (definitions/assets.py, docs/adr/0012)
    "render_template_as_native_obj": (None, "is ignored on a task: set it on the DAG"),
    "start_date": (None, "is ignored on a task when it differs from the DAG's: every task runs in every run"),
    "end_date": (None, "is ignored on a task when it differs from the DAG's: every task runs in every run"),
}
# given only when they differ from the DAG's own value (default_args commonly repeat the DAG's dates)
COMPARED_WITH_DAG = ("start_date", "end_date")

DAG_ARGUMENTS: dict[str, tuple[Any, str]] = {
    "sla_miss_callback": (None, "is not called: tradewind has no SLA checks (Airflow 3 removed them too)"),
    "max_consecutive_failed_dag_runs": (0, "is ignored: the DAG is not paused after failed runs"),
    "deadline": (None, "is ignored: tradewind has no deadline alerts"),
    "access_control": (None, "is ignored: tradewind has no per-DAG permissions"),
}


def _unused(value: Any, default: Any) -> bool:
    return value is None or value == default or (isinstance(value, (list, tuple, dict, set)) and not value)


def given(arguments: Mapping[str, Any], table: Mapping[str, tuple[Any, str]]) -> list[str]:
    """The names in ``table`` that ``arguments`` sets to something other than their default."""
    return [name for name, (default, _) in table.items() if not _unused(arguments.get(name), default)]


def task_arguments_given(arguments: Mapping[str, Any], dag: Any) -> list[str]:
    """The task arguments of ``arguments`` to warn about for a task of ``dag``."""
    names = given(arguments, TASK_ARGUMENTS)
    return [n for n in names if n not in COMPARED_WITH_DAG or not _same_moment(arguments[n], getattr(dag, n, None))]


def _same_moment(value: Any, dag_value: Any) -> bool:
    try:
        if getattr(value, "tzinfo", True) is None and dag_value is not None:
            value = value.replace(tzinfo=dag_value.tzinfo)
        return bool(value == dag_value)
    except (TypeError, AttributeError):
        return False


class ImportWarnings:
    """The warnings of one DAG, grouped by what they are about (one line each)."""

    def __init__(self) -> None:
        self._tasks: dict[str, list[str]] = {}  # task argument -> task ids
        self._other: list[str] = []

    def dag_argument(self, name: str) -> None:
        self.add(f"DAG argument {name} {DAG_ARGUMENTS[name][1]}")

    def task_argument(self, name: str, task_id: str) -> None:
        tasks = self._tasks.setdefault(name, [])
        if task_id not in tasks:
            tasks.append(task_id)

    def add(self, message: str) -> None:
        if message not in self._other:
            self._other.append(message)

    def __bool__(self) -> bool:
        return bool(self._tasks or self._other)

    def messages(self) -> list[str]:
        lines = list(self._other)
        for name in sorted(self._tasks, key=list(TASK_ARGUMENTS).index):  # in the table's order
            task_ids = self._tasks[name]
            shown = ", ".join(f"'{t}'" for t in task_ids[:5]) + (
                f" and {len(task_ids) - 5} more" if len(task_ids) > 5 else ""
            )
            noun = "task" if len(task_ids) == 1 else "tasks"
            lines.append(f"task argument {name} (set on {noun} {shown}) {TASK_ARGUMENTS[name][1]}")
        return lines
