"""Which DAG and task group a new task belongs to while a DAG file is being read.

``with DAG(...)`` and ``with TaskGroup(...)`` push onto these stacks; operators created inside
attach themselves to the innermost one. DAGs entered as context managers are also recorded in
``autoregistered`` so the loader finds DAGs that were never assigned to a module global (the
``@dag`` function called at module level, as in Airflow 2.4+).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradewind.definitions.dag import DAG
    from tradewind.definitions.taskgroup import TaskGroup

_dag_stack: list[DAG] = []
_group_stack: list[TaskGroup] = []
# In the order first entered, keyed by identity: a file that makes 10,000 DAGs stays linear.
autoregistered: dict[int, DAG] = {}


def push_dag(dag: DAG) -> None:
    _dag_stack.append(dag)


def pop_dag() -> DAG:
    dag = _dag_stack.pop()
    autoregistered.setdefault(id(dag), dag)
    return dag


def unregister(dag: DAG) -> None:
    """Forget ``dag`` (``DAG(auto_register=False)``): the loader finds it only through a global."""
    autoregistered.pop(id(dag), None)


def current_dag() -> DAG | None:
    return _dag_stack[-1] if _dag_stack else None


def push_group(group: TaskGroup) -> None:
    _group_stack.append(group)


def pop_group() -> TaskGroup:
    return _group_stack.pop()


def current_group(dag: DAG | None) -> TaskGroup | None:
    """The innermost open group belonging to ``dag`` (a group of another DAG does not count)."""
    for group in reversed(_group_stack):
        if group.dag is dag:
            return group
    return None


def take_autoregistered() -> list[DAG]:
    """Return and forget the DAGs registered since the last call (the loader calls this per file)."""
    dags = list(autoregistered.values())
    autoregistered.clear()
    return dags
