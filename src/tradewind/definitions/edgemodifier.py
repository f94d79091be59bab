"""``Label``: a name on the edges between tasks, as in ``branch >> Label("yes") >> load``.

The label changes nothing about scheduling; it is kept with the DAG's stored version and shown
by ``tradewind dags show`` (text and dot).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tradewind.definitions.dependencies import DependencyMixin, _as_list

if TYPE_CHECKING:
    from tradewind.definitions.abstractoperator import AbstractOperator


class EdgeModifier(DependencyMixin):
    """Stands between two sides of ``>>``; links them (with its label) once both are known."""

    _links_later = True

    def __init__(self, label: str | None = None) -> None:
        self.label = label
        self._upstream: list[DependencyMixin] = []
        self._downstream: list[DependencyMixin] = []

    @property
    def roots(self) -> list[AbstractOperator]:
        return [root for item in self._downstream for root in item.roots]

    @property
    def leaves(self) -> list[AbstractOperator]:
        return [leaf for item in self._upstream for leaf in item.leaves]

    def set_upstream(self, other: DependencyMixin | Sequence[DependencyMixin]) -> None:
        new = _as_list(other)
        self._upstream.extend(new)
        self._link(new, self._downstream)

    def set_downstream(self, other: DependencyMixin | Sequence[DependencyMixin]) -> None:
        new = _as_list(other)
        self._downstream.extend(new)
        self._link(self._upstream, new)

    def _link(self, upstream: list[DependencyMixin], downstream: list[DependencyMixin]) -> None:
        for up in upstream:
            for down in downstream:
                up.set_downstream(down)
                if self.label is None:
                    continue
                for leaf in up.leaves:
                    for root in down.roots:
                        if leaf.dag is not None:
                            leaf.dag.set_edge_info(leaf.task_id, root.task_id, {"label": self.label})

    def __repr__(self) -> str:
        return f"Label({self.label!r})"


def Label(label: str) -> EdgeModifier:
    """An edge labelled ``label``: ``a >> Label("on success") >> b``."""
    return EdgeModifier(label)
