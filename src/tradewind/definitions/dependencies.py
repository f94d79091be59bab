"""``>>``, ``<<``, ``set_upstream``, ``chain`` and ``cross_downstream`` for anything that stands
for tasks: an operator, a task group, or a task's output (XComArg)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from tradewind.errors import DagDefinitionError

if TYPE_CHECKING:
    from tradewind.definitions.abstractoperator import AbstractOperator


class DependencyMixin:
    """Subclasses say which operators are their ``roots`` (entered first) and ``leaves`` (left last)."""

    _links_later = False

    @property
    def roots(self) -> list[AbstractOperator]:
        raise NotImplementedError

    @property
    def leaves(self) -> list[AbstractOperator]:
        raise NotImplementedError

    def set_downstream(self, other: DependencyMixin | Sequence[DependencyMixin]) -> None:
        for target in _as_list(other):
            if target._links_later:  # a Label: the edge is made when its other side is known
                target.set_upstream(self)
                continue
            for leaf in self.leaves:
                for root in target.roots:
                    leaf._add_edge_to(root)

    def set_upstream(self, other: DependencyMixin | Sequence[DependencyMixin]) -> None:
        for source in _as_list(other):
            source.set_downstream(self)

    def __rshift__(self, other: Any) -> Any:
        self.set_downstream(other)
        return other

    def __lshift__(self, other: Any) -> Any:
        self.set_upstream(other)
        return other

    def __rrshift__(self, other: Any) -> Any:
        # [a, b] >> self
        self.set_upstream(other)
        return self

    def __rlshift__(self, other: Any) -> Any:
        # [a, b] << self
        self.set_downstream(other)
        return self


def _as_list(value: Any) -> list[DependencyMixin]:
    items = list(value) if isinstance(value, (list, tuple, set)) else [value]
    for item in items:
        if not isinstance(item, DependencyMixin):
            raise DagDefinitionError(
                f"Cannot set a dependency on {item!r} of type {type(item).__name__}: "
                "only tasks, task groups and task outputs can be chained"
            )
    return items


def chain(*elements: Any) -> None:
    """Chain tasks in order; two lists next to each other must be the same length and pair up.

    >>> chain(a, [b, c], [d, e], f)   # a>>b>>d>>f and a>>c>>e>>f
    """
    for upstream, downstream in pairwise(elements):
        up_is_list = isinstance(upstream, (list, tuple))
        down_is_list = isinstance(downstream, (list, tuple))
        if up_is_list and down_is_list:
            if len(upstream) != len(downstream):
                raise DagDefinitionError(
                    f"chain() cannot pair lists of different lengths: {len(upstream)} and {len(downstream)}"
                )
            for up, down in zip(upstream, downstream):
                _as_list(up)[0].set_downstream(down)
        elif up_is_list:
            for up in upstream:
                _as_list(up)[0].set_downstream(downstream)
        else:
            _as_list(upstream)[0].set_downstream(downstream)


def chain_linear(*elements: Any) -> None:
    """Every task of each element becomes upstream of every task of the next element.

    >>> chain_linear(a, [b, c], [d, e], f)   # a>>b, a>>c, b>>d, b>>e, c>>d, c>>e, d>>f, e>>f
    """
    if len(elements) < 2:
        raise DagDefinitionError("chain_linear() needs at least two elements to chain")
    for upstream, downstream in pairwise(elements):
        for up in _as_list(upstream):
            up.set_downstream(downstream)


def cross_downstream(from_tasks: Sequence[Any], to_tasks: Any) -> None:
    """Every task in ``from_tasks`` becomes upstream of every task in ``to_tasks``."""
    for task in from_tasks:
        _as_list(task)[0].set_downstream(to_tasks)
