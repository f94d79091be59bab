"""Dynamic task mapping: ``partial()`` gives an :class:`OperatorPartial`, ``expand()`` /
``expand_kwargs()`` turn it into a :class:`MappedOperator` holding an expand input.

An expand input knows, from the lengths of its sources alone, how many instances there are and
which element each ``map_index`` gets. Several ``expand()`` arguments form a cartesian product
whose *last* argument varies fastest (Airflow's order).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tradewind.definitions.abstractoperator import (
    BASE_DEFAULTS,
    AbstractOperator,
    resolve_base_arguments,
)
from tradewind.definitions.states import TriggerRule
from tradewind.definitions.xcom_arg import RETURN_KEY, PlainXComArg, XComArg, XComSource, iter_xcom_args
from tradewind.errors import MappingError, UnmappableValueError

if TYPE_CHECKING:
    from tradewind.definitions.baseoperator import BaseOperator

MAPPABLE_LITERALS = (list, tuple, dict)
# Arguments that identify or place a task: they can be given to partial() but never mapped.
UNMAPPABLE_ARGUMENTS = frozenset({"task_id", "dag", "task_group"})


class NotMappable(TypeError):
    """Raised by an XComSource when an upstream value has no length (the caller adds context)."""

    def __init__(self, task_id: str, value: Any) -> None:
        super().__init__(task_id)
        self.task_id = task_id
        self.value = value


def _source_length(value: Any, source: XComSource, task_id: str, argument: str) -> int:
    if isinstance(value, XComArg):
        try:
            return value.length(source)
        except NotMappable as exc:
            raise UnmappableValueError(task_id, argument, exc.task_id, exc.value) from None
    return len(value)


def _element(value: Any, index: int, source: XComSource) -> Any:
    if isinstance(value, XComArg):
        return value.element(index, source)
    if isinstance(value, dict):
        return list(value.items())[index]
    return value[index]


class ExpandInput:
    """What a mapped task maps over; subclasses differ in the shape the user gave."""

    def iter_xcom_args(self) -> Iterator[XComArg]:
        raise NotImplementedError

    def total_length(self, source: XComSource, task_id: str) -> int:
        raise NotImplementedError

    def kwargs_for(self, map_index: int, source: XComSource, task_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def positions(self, map_index: int, source: XComSource, task_id: str) -> list[tuple[str, str, int]] | None:
        """The plain task-output elements instance ``map_index`` reads, or None if it needs whole values."""
        raise NotImplementedError

    def names_from_xcom(self, map_index: int) -> set[str]:
        """Arguments whose value for ``map_index`` comes from a task's output. Those are data and
        are never rendered as templates; literal mapped values are rendered, as in Airflow."""
        raise NotImplementedError


class DictOfListsExpandInput(ExpandInput):
    """``expand(a=[...], b=xcom)``: the cartesian product of every argument's elements."""

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value

    def iter_xcom_args(self) -> Iterator[XComArg]:
        for v in self.value.values():
            yield from iter_xcom_args(v)

    def lengths(self, source: XComSource, task_id: str) -> dict[str, int]:
        return {name: _source_length(v, source, task_id, name) for name, v in self.value.items()}

    def total_length(self, source: XComSource, task_id: str) -> int:
        return math.prod(self.lengths(source, task_id).values())

    def kwargs_for(self, map_index: int, source: XComSource, task_id: str) -> dict[str, Any]:
        lengths = self.lengths(source, task_id)
        positions: dict[str, int] = {}
        remaining = map_index
        for name in reversed(list(self.value)):
            positions[name] = remaining % lengths[name]
            remaining //= lengths[name]
        return {name: _element(v, positions[name], source) for name, v in self.value.items()}

    def positions(self, map_index: int, source: XComSource, task_id: str) -> list[tuple[str, str, int]] | None:
        lengths = self.lengths(source, task_id)
        found: list[tuple[str, str, int]] = []
        remaining = map_index
        for name in reversed(list(self.value)):
            position = remaining % lengths[name]
            remaining //= lengths[name]
            value = self.value[name]
            if isinstance(value, XComArg):
                found.extend(value.positions(position, source))
        return found

    def names_from_xcom(self, map_index: int) -> set[str]:
        return {name for name, v in self.value.items() if isinstance(v, XComArg)}


class ListOfDictsExpandInput(ExpandInput):
    """``expand_kwargs([{...}, {...}])`` or ``expand_kwargs(xcom)``: one instance per dict."""

    def __init__(self, value: Sequence[Any] | XComArg) -> None:
        self.value = value

    def iter_xcom_args(self) -> Iterator[XComArg]:
        yield from iter_xcom_args(self.value)

    def total_length(self, source: XComSource, task_id: str) -> int:
        return _source_length(self.value, source, task_id, "expand_kwargs")

    def kwargs_for(self, map_index: int, source: XComSource, task_id: str) -> dict[str, Any]:
        item = _element(self.value, map_index, source)
        if not isinstance(item, Mapping):
            raise UnmappableValueError(task_id, f"expand_kwargs[{map_index}]", _producer(self.value), item)
        return {str(k): (v.resolve(source) if isinstance(v, XComArg) else v) for k, v in item.items()}

    def positions(self, map_index: int, source: XComSource, task_id: str) -> list[tuple[str, str, int]] | None:
        if isinstance(self.value, XComArg):
            return list(self.value.positions(map_index, source))
        return None

    def names_from_xcom(self, map_index: int) -> set[str]:
        if isinstance(self.value, XComArg):
            return {"*"}
        item = self.value[map_index]
        if isinstance(item, XComArg):
            return {"*"}
        return {str(k) for k, v in item.items() if isinstance(v, XComArg)}


def _producer(value: Any) -> str | None:
    if isinstance(value, XComArg):
        return ", ".join(p.task_id for p in value.iter_plain())
    return None


def check_mapped_value(call: str, name: str, value: Any) -> None:
    """Reject, at definition time, a literal that cannot be mapped over or a non-return XCom."""
    if isinstance(value, XComArg):
        for plain in value.iter_plain():
            if plain.key != RETURN_KEY:
                raise MappingError(
                    f"{call}() cannot map over XCom with custom key {plain.key!r} from task "
                    f"'{plain.task_id}'; map over its return value instead"
                )
        return
    if not isinstance(value, MAPPABLE_LITERALS):
        raise MappingError(
            f"{call}() got an unexpected type {type(value).__name__!r} for keyword argument {name!r}: "
            "pass a list, tuple or dict (or a task's output)"
        )


def function_argument_check(
    call: str, signature: inspect.Signature, reserved: Collection[str] = ()
) -> Callable[[str], None]:
    """A check that ``name`` is a keyword argument of a decorated function (``call`` names it)."""
    params = signature.parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())

    def check(name: str) -> None:
        if name in reserved or (name not in params and not takes_any):
            raise MappingError(f"{call}() got an unexpected keyword argument {name!r}")
        if name in params and params[name].kind is inspect.Parameter.POSITIONAL_ONLY:
            raise MappingError(f"{call}() cannot take positional-only argument {name!r} by keyword")

    return check


def check_expand_call(
    call: str,
    args: tuple[Any, ...],
    mapped: Mapping[str, Any],
    partial: Collection[str],
    check_name: Callable[[str], None],
) -> None:
    """What every ``expand()`` checks: keyword arguments only, at least one, each a known name,
    not also given to ``partial()``, and a value that can be mapped over."""
    if args:
        raise MappingError(f"{call}() takes keyword arguments only, got {len(args)} positional")
    if not mapped:
        raise MappingError(f"{call}() needs at least one keyword argument to map over")
    for name, value in mapped.items():
        check_name(name)
        if name in partial:
            raise MappingError(f"{call}() got an argument {name!r} that was already given to partial()")
        check_mapped_value(call, name, value)


class MappedArgument(XComArg):
    """An argument of a mapped ``@task_group`` function: inside the group, instance ``i`` of a
    task sees element ``i`` of the group's expand input for this name."""

    def __init__(self, expand_input: ExpandInput, name: str) -> None:
        self.expand_input = expand_input
        self.name = name

    def iter_plain(self) -> Iterator[PlainXComArg]:
        for arg in self.expand_input.iter_xcom_args():
            yield from arg.iter_plain()

    def resolve(self, source: XComSource) -> Any:
        return self.expand_input.kwargs_for(source.map_index, source, source.task_id)[self.name]

    def length(self, source: XComSource) -> int:
        raise MappingError(f"cannot map over the mapped task group argument {self.name!r} a second time")

    def __repr__(self) -> str:
        return f"MappedArgument({self.name!r})"


class OperatorPartial:
    """``SomeOperator.partial(task_id=..., **constants)``: waits for ``expand()``."""

    def __init__(self, operator_class: type[BaseOperator], kwargs: dict[str, Any]) -> None:
        if "task_id" not in kwargs:
            raise MappingError(f"{operator_class.__name__}.partial() requires a task_id")
        self.operator_class = operator_class
        self.kwargs = kwargs
        self._expanded = False

    def _call_name(self, method: str) -> str:
        return f"{self.operator_class.__name__}.{method}"

    def expand(self, *args: Any, **mapped: Any) -> MappedOperator:
        call = self._call_name("expand")
        accepted = self.operator_class.accepted_arguments()

        def check_name(name: str) -> None:
            if name in UNMAPPABLE_ARGUMENTS:
                raise MappingError(f"{call}() cannot map over {name!r}: it must be the same for every instance")
            if name not in accepted:
                raise MappingError(f"{call}() got an unexpected keyword argument {name!r}")

        check_expand_call(call, args, mapped, self.kwargs, check_name)
        return self._build(DictOfListsExpandInput(dict(mapped)))

    def expand_kwargs(self, kwargs: Any) -> MappedOperator:
        call = self._call_name("expand_kwargs")
        if isinstance(kwargs, XComArg):
            check_mapped_value(call, "kwargs", kwargs)
        elif isinstance(kwargs, (list, tuple)):
            accepted = self.operator_class.accepted_arguments()
            for item in kwargs:
                if isinstance(item, XComArg):
                    continue
                if not isinstance(item, Mapping):
                    raise MappingError(f"{call}() takes a list of dicts, got an item of type {type(item).__name__!r}")
                for name in item:
                    if name not in accepted or name in UNMAPPABLE_ARGUMENTS:
                        raise MappingError(f"{call}() got an unexpected keyword argument {name!r}")
                    if name in self.kwargs:
                        raise MappingError(f"{call}() got an argument {name!r} that was already given to partial()")
        else:
            raise MappingError(f"{call}() takes a list of dicts or a task's output, got {type(kwargs).__name__!r}")
        return self._build(ListOfDictsExpandInput(kwargs))

    def _build(self, expand_input: ExpandInput) -> MappedOperator:
        if self._expanded:
            raise MappingError(f"{self._call_name('partial')}() result was already expanded once")
        self._expanded = True
        return MappedOperator(self.operator_class, dict(self.kwargs), expand_input)


class MappedOperator(AbstractOperator):
    """A task that becomes one instance per element of its expand input at run time."""

    is_mapped = True

    def __init__(
        self,
        operator_class: type[BaseOperator],
        partial_kwargs: dict[str, Any],
        expand_input: ExpandInput,
        expand_into: str | None = None,
    ) -> None:
        self.operator_class = operator_class
        self.expand_input = expand_input
        # TaskFlow tasks receive mapped elements as function arguments, i.e. inside op_kwargs.
        self.expand_into = expand_into
        kwargs = dict(partial_kwargs)
        dag, group, task_id = self._place(
            kwargs.pop("task_id"), kwargs.pop("dag", None), kwargs.pop("task_group", None)
        )
        base = {name: kwargs.pop(name) for name in list(kwargs) if name in BASE_DEFAULTS}
        self.partial_base_kwargs = base
        self.partial_kwargs = kwargs  # operator-specific constants
        arguments = resolve_base_arguments(base, dag, group, task_id)
        self._init_node(task_id, dag, group, arguments)
        for arg in list(expand_input.iter_xcom_args()) + list(iter_xcom_args(kwargs)):
            self.set_upstream(arg)

    def iter_input_xcom_args(self) -> Iterator[XComArg]:
        yield from self.expand_input.iter_xcom_args()
        yield from iter_xcom_args(self.partial_kwargs)

    def validate_in_dag(self) -> None:
        if self.mapped_group is not None:
            raise MappingError(
                f"Task '{self.task_id}' is mapped inside the mapped task group "
                f"'{self.mapped_group.group_id}'; mapping inside a mapped task group is not supported"
            )
        if self.trigger_rule == TriggerRule.ALWAYS and any(True for _ in self.expand_input.iter_xcom_args()):
            raise MappingError(
                f"Task '{self.task_id}' maps over an upstream task's output, so it cannot use "
                "trigger_rule='always' (it would run before that output exists)"
            )

    @property
    def output(self) -> PlainXComArg:
        return PlainXComArg(self)

    def unmap(self, expanded: dict[str, Any], from_xcom: set[str] | frozenset[str] = frozenset()) -> BaseOperator:
        """A plain operator for one instance: partial constants plus this instance's elements.

        ``from_xcom`` names the elements that came from a task's output ("*" for all of them);
        the runtime passes those as they are instead of rendering them as templates."""
        kwargs = {**self.partial_kwargs, **self.partial_base_kwargs}
        if self.expand_into:
            kwargs[self.expand_into] = {**kwargs.get(self.expand_into, {}), **expanded}
        else:
            kwargs.update(expanded)
        operator = self.operator_class(task_id=self.task_id, _unmapped_from=self, **kwargs)
        operator.unrendered_keys = frozenset(expanded) if "*" in from_xcom else frozenset(from_xcom)
        return operator

    def __repr__(self) -> str:
        return f"<Mapped({self.operator_class.__name__}): {self.task_id}>"
