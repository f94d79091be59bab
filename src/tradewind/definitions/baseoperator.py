"""BaseOperator: subclass it and implement ``execute(context)`` to write a task type."""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tradewind.definitions import templater
from tradewind.definitions.abstractoperator import (
    BASE_DEFAULTS,
    NODE_ATTRIBUTES,
    AbstractOperator,
    resolve_base_arguments,
)
from tradewind.definitions.mapping import MappedOperator, OperatorPartial
from tradewind.definitions.xcom_arg import XComArg, iter_xcom_args
from tradewind.errors import DagDefinitionError, MappingError

if TYPE_CHECKING:
    from tradewind.definitions.dag import DAG
    from tradewind.definitions.taskgroup import TaskGroup


class BaseOperator(AbstractOperator):
    """One unit of work. Arguments named in ``template_fields`` are rendered with Jinja at run time.

    >>> class Hello(BaseOperator):
    ...     template_fields = ("name",)
    ...     def __init__(self, *, name: str, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.name = name
    ...     def execute(self, context):
    ...         print(f"hello {self.name}")
    """

    template_fields: Sequence[str] = ()
    template_ext: Sequence[str] = ()
    ui_color = "#fff"

    def __init__(
        self,
        *,
        task_id: str,
        dag: DAG | None = None,
        task_group: TaskGroup | None = None,
        _unmapped_from: MappedOperator | None = None,
        pre_execute: Callable[[dict[str, Any]], Any] | None = None,
        post_execute: Callable[[dict[str, Any], Any], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        unknown = {k: v for k, v in kwargs.items() if k not in BASE_DEFAULTS}
        if unknown:
            raise DagDefinitionError(
                f"Invalid arguments were passed to {type(self).__name__} (task_id: {task_id}): "
                f"{', '.join(sorted(unknown))}"
            )
        self.mapped_from = _unmapped_from
        if _unmapped_from is not None:
            # One instance of a mapped task: same identity and edges as the mapped node, not added to the DAG.
            node = _unmapped_from
            self.task_id, self.dag, self.task_group = node.task_id, node.dag, node.task_group
            self.upstream_task_ids = node.upstream_task_ids
            self.downstream_task_ids = node.downstream_task_ids
            self._set_arguments(resolve_base_arguments(kwargs, node.dag, node.task_group, node.task_id))
        else:
            dag, group, full_id = self._place(task_id, dag, task_group)
            self._init_node(full_id, dag, group, resolve_base_arguments(kwargs, dag, group, full_id))
        # hooks called around execute() (``@task.run_if`` and ``@task.skip_if`` add one)
        self._pre_execute_hook = pre_execute
        self._post_execute_hook = post_execute

    def __setattr__(self, name: str, value: Any) -> None:
        # A task output assigned to a templated field makes its producer an upstream task.
        super().__setattr__(name, value)
        if (
            name in self.template_fields
            and getattr(self, "mapped_from", None) is None
            and hasattr(self, "downstream_task_ids")
        ):
            for arg in iter_xcom_args(value):
                self.set_upstream(arg)

    def _set_arguments(self, arguments: dict[str, Any]) -> None:
        """Straight into the instance dict, except the names an assignment must go through: a
        template field (see ``__setattr__``), a property, or any name at all when a subclass has
        its own ``__setattr__``."""
        cls = type(self)
        intercepted = _intercepted.get(cls)
        if intercepted is None:
            intercepted = _intercepted[cls] = _intercepted_arguments(cls)
        if intercepted is _ALL or self.template_fields is not cls.template_fields:
            super()._set_arguments(arguments)
            return
        if not intercepted:
            self.__dict__.update(arguments)
            return
        self.__dict__.update((k, v) for k, v in arguments.items() if k not in intercepted)
        for name, value in arguments.items():
            if name in intercepted:
                setattr(self, name, value)

    def iter_input_xcom_args(self) -> Iterator[XComArg]:
        for name in self.template_fields:
            yield from iter_xcom_args(getattr(self, name, None))

    def pre_execute(self, context: dict[str, Any]) -> None:
        """Called right before ``execute``; calls the ``pre_execute=`` hook if one was given."""
        if self._pre_execute_hook is not None:
            self._pre_execute_hook(context)

    def post_execute(self, context: dict[str, Any], result: Any = None) -> None:
        """Called right after ``execute`` succeeds; calls the ``post_execute=`` hook if one was given."""
        if self._post_execute_hook is not None:
            self._post_execute_hook(context, result)

    def execute(self, context: dict[str, Any]) -> Any:
        """Do the work; the return value becomes this task's XCom (``return_value``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement execute(context)")

    def render_template(
        self, content: Any, context: Mapping[str, Any], jinja_env: Any = None, seen_oids: Any = None
    ) -> Any:
        """Render ``content`` (a string, or the strings inside lists, tuples and dicts) with
        ``context`` and this task's DAG's template settings, as Airflow's ``render_template``."""
        return templater.render(self, content, context)

    # -- mapping
    @classmethod
    def partial(cls, **kwargs: Any) -> OperatorPartial:
        """Fix the arguments shared by every mapped instance; follow with ``.expand(...)``."""
        accepted = cls.accepted_arguments()
        for name in kwargs:
            if name not in accepted:
                raise MappingError(f"{cls.__name__}.partial() got an unexpected keyword argument {name!r}")
        return OperatorPartial(cls, kwargs)

    @classmethod
    @functools.cache
    def accepted_arguments(cls) -> frozenset[str]:
        names = set(BASE_DEFAULTS) | {"task_id", "dag", "task_group"}
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None:
                continue
            for param in inspect.signature(init).parameters.values():
                if param.kind in (param.KEYWORD_ONLY, param.POSITIONAL_OR_KEYWORD) and param.name != "self":
                    names.add(param.name)
        names.discard("_unmapped_from")
        return frozenset(names)


_ALL: frozenset[str] = frozenset(NODE_ATTRIBUTES).union(BASE_DEFAULTS)
# Per operator class (weakly: DAG files define classes anew on every parse), the attributes set by
# _init_node whose assignment the class intercepts; _ALL when its own __setattr__ may intercept any.
_intercepted: weakref.WeakKeyDictionary[type, frozenset[str]] = weakref.WeakKeyDictionary()


def _intercepted_arguments(cls: type[BaseOperator]) -> frozenset[str]:
    if cls.__setattr__ is not BaseOperator.__setattr__:
        return _ALL
    names = {name for name in _ALL if hasattr(type(inspect.getattr_static(cls, name, None)), "__set__")}
    names.update(name for name in cls.template_fields if name in _ALL)
    return frozenset(names)
