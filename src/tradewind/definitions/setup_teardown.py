"""Setup and teardown tasks, as in Airflow 3.

A setup task prepares a resource, a teardown task releases it. A teardown runs once every task
between it and its setups is done, whatever their outcome, as long as one of its setups
succeeded (trigger rule ``all_done_setup_success``); the run's state ignores it unless it was
made with ``on_failure_fail_dagrun=True``. Clearing a task also clears its setups and their
teardowns.

>>> create = create_cluster().as_setup()
>>> delete = delete_cluster().as_teardown(setups=create)
>>> create >> run_query() >> delete

Inside ``with delete:`` (or ``with create >> delete:``) the tasks created in the block are put
between the setups and the teardowns.

The graph functions below take any graph whose ``task_dict`` values have ``upstream_task_ids``,
``downstream_task_ids``, ``is_setup`` and ``is_teardown``: a DAG being defined or a serialised DAG.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from tradewind.definitions.states import TriggerRule
from tradewind.errors import DagDefinitionError

if TYPE_CHECKING:
    from tradewind.definitions.abstractoperator import AbstractOperator


class _Node(Protocol):
    task_id: str
    upstream_task_ids: set[str]
    downstream_task_ids: set[str]
    is_setup: bool
    is_teardown: bool


# --- marking tasks ------------------------------------------------------------------------------


def _operators(value: Any) -> list[AbstractOperator]:
    """The tasks ``value`` stands for: a task, a task's output, or a list of them."""
    items = list(value) if isinstance(value, (list, tuple, set)) else [value]
    found: list[AbstractOperator] = []
    for item in items:
        if hasattr(item, "iter_plain"):  # a task's output
            found.extend(item.roots)
        elif hasattr(item, "task_id") and hasattr(item, "downstream_task_ids"):
            found.append(item)
        else:
            raise DagDefinitionError(f"setups= takes tasks or task outputs, got {type(item).__name__}")
    return found


def mark_setup(task: AbstractOperator) -> None:
    if task.is_teardown:
        raise DagDefinitionError(f"Task '{task.task_id}' is already a teardown task; it cannot also be a setup")
    task.is_setup = True


def mark_teardown(task: AbstractOperator, setups: Any = None, on_failure_fail_dagrun: bool | None = None) -> None:
    if task.is_setup:
        raise DagDefinitionError(f"Task '{task.task_id}' is already a setup task; it cannot also be a teardown")
    task.is_teardown = True
    task.trigger_rule = TriggerRule.ALL_DONE_SETUP_SUCCESS
    if on_failure_fail_dagrun is not None:
        task.on_failure_fail_dagrun = bool(on_failure_fail_dagrun)
    if setups is not None:
        for setup in _operators(setups):
            if not setup.is_setup:
                mark_setup(setup)
            setup.set_downstream(task)


# --- ``with teardown:`` -------------------------------------------------------------------------


@dataclass
class _Scope:
    setups: list[AbstractOperator]
    teardowns: list[AbstractOperator]
    created: list[AbstractOperator] = field(default_factory=list)


_scopes: list[_Scope] = []


def enter_scope(value: Any) -> None:
    """``with task:`` where ``task`` (or its output) is a setup or a teardown task."""
    tasks = _operators(value)
    setups = [t for t in tasks if t.is_setup]
    teardowns = [t for t in tasks if t.is_teardown]
    if len(setups) + len(teardowns) != len(tasks):
        names = ", ".join(repr(t.task_id) for t in tasks if not (t.is_setup or t.is_teardown))
        raise DagDefinitionError(
            f"Only setup and teardown tasks can be used as context managers ({names} is neither): "
            "mark it with .as_setup() or .as_teardown(), or use @setup / @teardown"
        )
    dag = tasks[0].dag if tasks else None
    for setup in setups:
        teardowns.extend(
            dag.task_dict[t]
            for t in sorted(setup.downstream_task_ids)
            if dag is not None and dag.task_dict[t].is_teardown
        )
    for teardown in list(teardowns):
        setups.extend(
            dag.task_dict[t]
            for t in sorted(teardown.upstream_task_ids)
            if dag is not None and dag.task_dict[t].is_setup
        )
    _scopes.append(_Scope(list(dict.fromkeys(setups)), list(dict.fromkeys(teardowns))))


def exit_scope() -> None:
    scope = _scopes.pop()
    own = {id(t) for t in scope.setups + scope.teardowns}
    work = [t for t in scope.created if id(t) not in own]
    ids = {t.task_id for t in work}
    for task in work:
        if not (task.upstream_task_ids & ids):
            for setup in scope.setups:
                setup.set_downstream(task)
        if not (task.downstream_task_ids & ids):
            for teardown in scope.teardowns:
                task.set_downstream(teardown)
    if _scopes:  # a nested scope's setups and teardowns are work of the outer one
        _scopes[-1].created.extend(t for t in scope.setups + scope.teardowns if t not in _scopes[-1].created)


def note_created(task: AbstractOperator) -> None:
    """A task was created: it is work of the innermost open ``with setup/teardown:`` block."""
    if _scopes:
        _scopes[-1].created.append(task)


# --- the graph ----------------------------------------------------------------------------------


def _relatives(tasks: Mapping[str, _Node], start: str, upstream: bool) -> set[str]:
    found: set[str] = set()
    pending = list(tasks[start].upstream_task_ids if upstream else tasks[start].downstream_task_ids)
    while pending:
        task_id = pending.pop()
        if task_id in found or task_id not in tasks:
            continue
        found.add(task_id)
        node = tasks[task_id]
        pending.extend(node.upstream_task_ids if upstream else node.downstream_task_ids)
    return found


def relevant_setups_and_teardowns(tasks: Mapping[str, _Node], task_id: str) -> Iterator[str]:
    """The setups upstream of ``task_id`` whose teardown is downstream of it (or that have no
    teardown), and their teardowns: what clearing ``task_id`` clears with it (Airflow's rule)."""
    downstream_teardowns = {t for t in _relatives(tasks, task_id, upstream=False) if tasks[t].is_teardown}
    for upstream_id in sorted(_relatives(tasks, task_id, upstream=True)):
        node = tasks[upstream_id]
        if not node.is_setup:
            continue
        teardowns = {t for t in node.downstream_task_ids if t in tasks and tasks[t].is_teardown}
        if not teardowns or teardowns & downstream_teardowns:
            yield upstream_id
            yield from sorted(t for t in teardowns if t != task_id)


def relevant_setups(tasks: Mapping[str, _Node], task_id: str) -> list[str]:
    """The setups ``task_id`` works in (see relevant_setups_and_teardowns): it runs only if they succeeded."""
    return [t for t in relevant_setups_and_teardowns(tasks, task_id) if tasks[t].is_setup]


def with_setups_and_teardowns(tasks: Mapping[str, _Node], task_ids: Iterable[str]) -> list[str]:
    """``task_ids`` and, for each, its relevant setups and their teardowns (no duplicates)."""
    chosen = dict.fromkeys(task_ids)
    if not any(node.is_setup for node in tasks.values()):
        return list(chosen)
    for task_id in list(chosen):
        if task_id in tasks:
            chosen.update(dict.fromkeys(relevant_setups_and_teardowns(tasks, task_id)))
    return list(chosen)


def teardown_scope(tasks: Mapping[str, _Node], teardown_id: str) -> set[str]:
    """The tasks a teardown waits for besides its direct upstreams: every task downstream of one
    of its setups and upstream of it."""
    node = tasks[teardown_id]
    upstream = _relatives(tasks, teardown_id, upstream=True)
    scope: set[str] = set()
    for setup_id in node.upstream_task_ids:
        if setup_id in tasks and tasks[setup_id].is_setup:
            scope |= _relatives(tasks, setup_id, upstream=False) & upstream
    return scope - node.upstream_task_ids


def run_state_leaves(tasks: Mapping[str, _Node], fails_run: Callable[[str], bool]) -> list[str]:
    """The tasks whose states decide the run's state: leaves, where a teardown that does not
    fail the run (``fails_run`` false) is passed over for the tasks before it (Airflow's rule)."""

    def ignorable(task_id: str) -> bool:
        return tasks[task_id].is_teardown and not fails_run(task_id)

    leaves = [
        task_id
        for task_id, node in tasks.items()
        if not ignorable(task_id) and all(ignorable(d) for d in node.downstream_task_ids if d in tasks)
    ]
    return leaves or [task_id for task_id, node in tasks.items() if not (node.downstream_task_ids & tasks.keys())]
