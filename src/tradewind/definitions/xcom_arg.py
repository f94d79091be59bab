"""XComArg: a reference to a task's output, resolved only when a downstream task runs.

``generate()`` inside a DAG returns a :class:`PlainXComArg`; passing it to another task creates
the dependency and, at run time, the value. ``.map(fn)``, ``.zip(...)`` and ``.concat(...)``
build derived references whose *length* is computable from the lengths of the plain sources
alone, so a scheduler can expand a mapped task without running user code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from tradewind.definitions import setup_teardown
from tradewind.definitions.dependencies import DependencyMixin

if TYPE_CHECKING:
    from tradewind.definitions.baseoperator import AbstractOperator

RETURN_KEY = "return_value"
_NOTSET: Any = object()


class XComSource(Protocol):
    """What a resolver (in-memory run, worker, store) offers to resolve XComArgs.

    ``task_id`` and ``map_index`` name the instance being resolved for (-1 when not mapped)."""

    task_id: str
    map_index: int

    def value(self, task_id: str, key: str) -> Any: ...
    def item(self, task_id: str, key: str, index: int) -> Any: ...
    def length(self, task_id: str, key: str) -> int: ...


class XComArg(DependencyMixin):
    """Base of all output references. Subclasses say how to resolve and how long they are."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # ``XComArg(task)`` / ``XComArg(operator=task, key=...)`` in DAG files: a task's output
        if cls is XComArg:
            return object.__new__(PlainXComArg)
        return object.__new__(cls)

    def iter_plain(self) -> Iterator[PlainXComArg]:
        raise NotImplementedError

    def resolve(self, source: XComSource) -> Any:
        raise NotImplementedError

    def length(self, source: XComSource) -> int:
        raise NotImplementedError

    def element(self, index: int, source: XComSource) -> Any:
        raise NotImplementedError

    def positions(self, index: int, source: XComSource) -> Iterator[tuple[str, str, int]]:
        """The (task_id, key, position) of every plain value ``element(index)`` reads, so a
        scheduler can send a worker only those elements instead of whole lists."""
        raise NotImplementedError

    # -- dependencies: an XComArg stands for the tasks that produce it
    @property
    def roots(self) -> list[AbstractOperator]:
        return [plain.operator for plain in self.iter_plain()]

    @property
    def leaves(self) -> list[AbstractOperator]:
        return self.roots

    # -- setup and teardown: an output stands for the task that produces it
    def as_setup(self) -> XComArg:
        for task in self.roots:
            setup_teardown.mark_setup(task)
        return self

    def as_teardown(self, *, setups: Any = None, on_failure_fail_dagrun: bool | None = None) -> XComArg:
        for task in self.roots:
            setup_teardown.mark_teardown(task, setups, on_failure_fail_dagrun)
        return self

    def __enter__(self) -> XComArg:
        setup_teardown.enter_scope(self)
        return self

    def __exit__(self, *exc: object) -> None:
        setup_teardown.exit_scope()

    # -- derived references
    def map(self, fn: Callable[[Any], Any]) -> MapXComArg:
        """Apply ``fn`` to each element when it is consumed (the length stays the same)."""
        return MapXComArg(self, fn)

    def zip(self, *others: XComArg, fillvalue: Any = _NOTSET) -> ZipXComArg:
        """Pair elements with those of ``others``; shortest wins unless ``fillvalue`` is given."""
        return ZipXComArg([self, *others], fillvalue=fillvalue)

    def concat(self, *others: XComArg) -> ConcatXComArg:
        """Chain this sequence with ``others`` into one longer sequence."""
        return ConcatXComArg([self, *others])


class PlainXComArg(XComArg):
    """The XCom ``key`` pushed by ``operator`` (its return value by default)."""

    def __init__(self, operator: AbstractOperator, key: str = RETURN_KEY) -> None:
        self.operator = operator
        self.key = key

    @property
    def task_id(self) -> str:
        return self.operator.task_id

    def __getitem__(self, key: str) -> PlainXComArg:
        """``task()["name"]``: one of the outputs of a ``multiple_outputs`` task."""
        return PlainXComArg(self.operator, key)

    def __iter__(self) -> Iterator[Any]:
        raise TypeError(
            f"The output of task '{self.task_id}' is not known until the task runs, so it cannot "
            "be iterated while the DAG is defined. Pass it to a task, or use .expand() to map over it."
        )

    def iter_plain(self) -> Iterator[PlainXComArg]:
        yield self

    def resolve(self, source: XComSource) -> Any:
        return source.value(self.task_id, self.key)

    def length(self, source: XComSource) -> int:
        return source.length(self.task_id, self.key)

    def element(self, index: int, source: XComSource) -> Any:
        return source.item(self.task_id, self.key, index)

    def positions(self, index: int, source: XComSource) -> Iterator[tuple[str, str, int]]:
        yield (self.task_id, self.key, index)

    def __repr__(self) -> str:
        suffix = "" if self.key == RETURN_KEY else f"[{self.key!r}]"
        return f"XComArg({self.task_id!r}){suffix}"


class MapXComArg(XComArg):
    def __init__(self, arg: XComArg, fn: Callable[[Any], Any]) -> None:
        self.arg = arg
        self.fn = fn

    def iter_plain(self) -> Iterator[PlainXComArg]:
        return self.arg.iter_plain()

    def resolve(self, source: XComSource) -> Any:
        return _MappedSequence(self, source)

    def length(self, source: XComSource) -> int:
        return self.arg.length(source)

    def element(self, index: int, source: XComSource) -> Any:
        return self.fn(self.arg.element(index, source))

    def positions(self, index: int, source: XComSource) -> Iterator[tuple[str, str, int]]:
        return self.arg.positions(index, source)

    def map(self, fn: Callable[[Any], Any]) -> MapXComArg:
        first = self.fn
        return MapXComArg(self.arg, lambda value: fn(first(value)))


class ZipXComArg(XComArg):
    def __init__(self, args: Sequence[XComArg], *, fillvalue: Any = _NOTSET) -> None:
        for arg in args:
            if not isinstance(arg, XComArg):
                raise TypeError(f"zip() takes task outputs (XComArg), not {type(arg).__name__}")
        self.args = list(args)
        self.fillvalue = fillvalue

    def iter_plain(self) -> Iterator[PlainXComArg]:
        for arg in self.args:
            yield from arg.iter_plain()

    def resolve(self, source: XComSource) -> Any:
        return _MappedSequence(self, source)

    def length(self, source: XComSource) -> int:
        lengths = [arg.length(source) for arg in self.args]
        return max(lengths) if self.fillvalue is not _NOTSET else min(lengths)

    def element(self, index: int, source: XComSource) -> Any:
        values = []
        for arg in self.args:
            if index < arg.length(source):
                values.append(arg.element(index, source))
            else:
                values.append(self.fillvalue)
        return tuple(values)

    def positions(self, index: int, source: XComSource) -> Iterator[tuple[str, str, int]]:
        for arg in self.args:
            if index < arg.length(source):
                yield from arg.positions(index, source)


class ConcatXComArg(XComArg):
    def __init__(self, args: Sequence[XComArg]) -> None:
        for arg in args:
            if not isinstance(arg, XComArg):
                raise TypeError(f"concat() takes task outputs (XComArg), not {type(arg).__name__}")
        self.args = list(args)

    def iter_plain(self) -> Iterator[PlainXComArg]:
        for arg in self.args:
            yield from arg.iter_plain()

    def resolve(self, source: XComSource) -> Any:
        return _MappedSequence(self, source)

    def length(self, source: XComSource) -> int:
        return sum(arg.length(source) for arg in self.args)

    def element(self, index: int, source: XComSource) -> Any:
        for arg in self.args:
            size = arg.length(source)
            if index < size:
                return arg.element(index, source)
            index -= size
        raise IndexError("concat index out of range")

    def positions(self, index: int, source: XComSource) -> Iterator[tuple[str, str, int]]:
        for arg in self.args:
            size = arg.length(source)
            if index < size:
                return arg.positions(index, source)
            index -= size
        return iter(())


class _MappedSequence(Sequence[Any]):
    """A derived reference resolved as a whole: elements are computed when read."""

    def __init__(self, arg: XComArg, source: XComSource) -> None:
        self._arg = arg
        self._source = source

    def __len__(self) -> int:
        return self._arg.length(self._source)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._arg.element(index, self._source)

    def __repr__(self) -> str:
        return f"<lazy sequence of {len(self)} items>"


def iter_xcom_args(value: Any) -> Iterator[XComArg]:
    """Every XComArg inside ``value`` (nested lists, tuples, sets and dicts included)."""
    if isinstance(value, XComArg):
        yield value
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from iter_xcom_args(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_xcom_args(item)
