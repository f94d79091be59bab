"""BaseOperator: subclass it and implement ``execute(context)`` to write a task type."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from tradewind.definitions.abstractoperator import (
    BASE_DEFAULTS,
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
    ...     def iter_input_xcom_args(self) -> Iterator[XComArg]:
        for name in self.template_fields:
            yield from iter_xcom_args(getattr(self, name, None))

    def execute(self, context):
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
            for name, value in resolve_base_arguments(kwargs, node.dag, node.task_group, node.task_id).items():
                setattr(self, name, value)
            return
        dag, group, full_id = self._place(task_id, dag, task_group)
        self._init_node(full_id, dag, group, resolve_base_arguments(kwargs, dag, group, full_id))

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

    def iter_input_xcom_args(self) -> Iterator[XComArg]:
        for name in self.template_fields:
            yield from iter_xcom_args(getattr(self, name, None))

    def execute(self, context: dict[str, Any]) -> Any:
        """Do the work; the return value becomes this task's XCom (``return_value``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement execute(context)")

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
