"""Task groups: a namespace for task ids (``group.task``) and a unit for dependencies."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from tradewind.definitions import _context
from tradewind.definitions.abstractoperator import validate_id
from tradewind.definitions.dependencies import DependencyMixin
from tradewind.definitions.mapping import (
    DictOfListsExpandInput,
    ExpandInput,
    ListOfDictsExpandInput,
    MappedArgument,
    check_expand_call,
    check_mapped_value,
    function_argument_check,
)
from tradewind.definitions.xcom_arg import XComArg
from tradewind.errors import DagDefinitionError, MappingError

if TYPE_CHECKING:
    from tradewind.definitions.abstractoperator import AbstractOperator
    from tradewind.definitions.dag import DAG


class TaskGroup(DependencyMixin):
    """Group tasks under one id; ``start >> group >> end`` links to its first and last tasks.

    >>> with TaskGroup("extract") as tg:
    ...     a = EmptyOperator(task_id="a")       # task_id becomes "extract.a"
    """

    is_mapped = False

    def __init__(
        self,
        group_id: str | None,
        prefix_group_id: bool = True,
        parent_group: TaskGroup | None = None,
        dag: DAG | None = None,
        default_args: dict[str, Any] | None = None,
        tooltip: str = "",
        add_suffix_on_collision: bool = False,
        **_ignored_ui_options: Any,
    ) -> None:
        self.prefix_group_id = prefix_group_id
        self.default_args = dict(default_args or {})
        self.tooltip = tooltip
        self.children: dict[str, AbstractOperator | TaskGroup] = {}
        if group_id is None:  # the root group of a DAG
            self.group_id: str | None = None
            self.parent_group: TaskGroup | None = None
            self.dag = dag
            return
        validate_id(group_id, "group_id")
        if dag is None:
            dag = parent_group.dag if parent_group is not None else _context.current_dag()
        if dag is None:
            raise DagDefinitionError(f"TaskGroup '{group_id}' must be created inside a DAG (or pass dag=)")
        self.dag = dag
        self.parent_group = parent_group or _context.current_group(dag) or dag.task_group
        full_id = self.parent_group.child_id(group_id)
        if full_id in dag.used_group_ids:
            if not add_suffix_on_collision:
                raise DagDefinitionError(f"Duplicate group_id '{full_id}' in DAG '{dag.dag_id}'")
            suffix = 1
            while f"{full_id}__{suffix}" in dag.used_group_ids:
                suffix += 1
            full_id = f"{full_id}__{suffix}"
        if full_id in dag.task_dict:
            raise DagDefinitionError(f"group_id '{full_id}' is already used as a task_id in DAG '{dag.dag_id}'")
        self.group_id = full_id
        dag.used_group_ids.add(full_id)
        self.parent_group.add(self)

    # -- naming
    def child_id(self, label: str) -> str:
        if self.group_id and self.prefix_group_id:
            return f"{self.group_id}.{label}"
        return label

    @property
    def node_id(self) -> str | None:
        return self.group_id

    def add(self, child: AbstractOperator | TaskGroup) -> None:
        key = child.node_id
        if key is None:
            raise DagDefinitionError("Cannot add a root task group as a child")
        self.children[key] = child

    def ancestry(self) -> Iterator[TaskGroup]:
        """This group and its parents, innermost first (the DAG's root group last)."""
        group: TaskGroup | None = self
        while group is not None:
            yield group
            group = group.parent_group

    def iter_tasks(self) -> Iterator[AbstractOperator]:
        for child in self.children.values():
            if isinstance(child, TaskGroup):
                yield from child.iter_tasks()
            else:
                yield child

    # -- dependencies: the group's first and last tasks
    @property
    def roots(self) -> list[AbstractOperator]:
        inside = {t.task_id for t in self.iter_tasks()}
        return [t for t in self.iter_tasks() if not t.upstream_task_ids & inside]

    @property
    def leaves(self) -> list[AbstractOperator]:
        inside = {t.task_id for t in self.iter_tasks()}
        return [t for t in self.iter_tasks() if not t.downstream_task_ids & inside]

    def __enter__(self) -> TaskGroup:
        _context.push_group(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _context.pop_group()

    def __repr__(self) -> str:
        return f"<TaskGroup: {self.group_id}>"


class MappedTaskGroup(TaskGroup):
    """A group expanded at run time: every task inside runs once per element of ``expand_input``."""

    is_mapped = True

    def __init__(self, group_id: str, *, expand_input: ExpandInput, **kwargs: Any) -> None:
        super().__init__(group_id, **kwargs)
        self.expand_input = expand_input
        parent = self.parent_group
        if parent is not None and any(g.is_mapped for g in parent.ancestry()):
            raise MappingError(
                f"Mapped task group '{self.group_id}' is inside another mapped task group; nesting is not supported"
            )


class TaskGroupFunction:
    """What ``@task_group`` returns: call it (or ``.expand()`` it) inside a DAG to build the group."""

    def __init__(
        self, function: Callable[..., Any], group_kwargs: dict[str, Any], partial_kwargs: dict[str, Any] | None = None
    ) -> None:
        self.function = function
        self.group_kwargs = group_kwargs
        self.partial_kwargs = dict(partial_kwargs or {})
        self.signature = inspect.signature(function)
        functools.update_wrapper(self, function)

    def _group_id(self) -> str:
        return self.group_kwargs.get("group_id") or self.function.__name__

    def _options(self) -> dict[str, Any]:
        options = {k: v for k, v in self.group_kwargs.items() if k != "group_id"}
        options.setdefault("add_suffix_on_collision", True)
        return options

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with TaskGroup(self._group_id(), **self._options()) as group:
            result = self.function(*args, **{**self.partial_kwargs, **kwargs})
        # A function that returns a task output lets callers chain on that output; otherwise
        # the group itself stands for its tasks.
        return group if result is None else result

    def override(self, **group_kwargs: Any) -> TaskGroupFunction:
        return TaskGroupFunction(self.function, {**self.group_kwargs, **group_kwargs}, self.partial_kwargs)

    # -- mapping: one instance of every task in the group per element
    def _check_names(self, call: str, names: Any) -> None:
        check = function_argument_check(f"{self._group_id()}.{call}", self.signature)
        for name in names:
            check(name)

    def partial(self, *args: Any, **kwargs: Any) -> TaskGroupFunction:
        if args:
            raise MappingError(f"{self._group_id()}.partial() takes keyword arguments only, got {len(args)} positional")
        self._check_names("partial", kwargs)
        return TaskGroupFunction(self.function, self.group_kwargs, {**self.partial_kwargs, **kwargs})

    def expand(self, *args: Any, **mapped: Any) -> Any:
        call = f"{self._group_id()}.expand"
        check_expand_call(call, args, mapped, self.partial_kwargs, function_argument_check(call, self.signature))
        return self._build(DictOfListsExpandInput(dict(mapped)), list(mapped))

    def expand_kwargs(self, kwargs: Any) -> Any:
        call = f"{self._group_id()}.expand_kwargs"
        if isinstance(kwargs, XComArg):
            check_mapped_value(call, "kwargs", kwargs)
        elif not isinstance(kwargs, (list, tuple)):
            raise MappingError(f"{call}() takes a list of dicts or a task's output, got {type(kwargs).__name__!r}")
        names = [
            p.name
            for p in self.signature.parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in self.partial_kwargs
        ]
        return self._build(ListOfDictsExpandInput(kwargs), names)

    def _build(self, expand_input: ExpandInput, names: list[str]) -> Any:
        arguments = {name: MappedArgument(expand_input, name) for name in names}
        with MappedTaskGroup(self._group_id(), expand_input=expand_input, **self._options()) as group:
            result = self.function(**self.partial_kwargs, **arguments)
        return group if result is None else result


def task_group(python_callable: Callable[..., Any] | None = None, **group_kwargs: Any) -> Any:
    """Decorate a function whose body creates tasks; each call creates one task group.

    >>> @task_group
    ... def etl(source):
    ...     load(transform(extract(source)))
    """
    if python_callable is not None:
        return TaskGroupFunction(python_callable, group_kwargs)
    return lambda fn: TaskGroupFunction(fn, group_kwargs)
