"""Resolving task outputs (XComArgs) from the values a WorkItem carries."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from tradewind.definitions.mapping import NotMappable


class ResultSequence(Sequence[Any]):
    """The results of a mapped task as a downstream task sees them: ordered by map index,
    read-only, with len, iteration and indexing (like Airflow's lazy XCom sequence).

    ``indexes`` are the map indexes the values came from (instances that returned nothing are
    left out of ``values``), for ``ti.xcom_pull(map_indexes=...)``; by default 0..n-1."""

    def __init__(self, values: Sequence[Any], indexes: Sequence[int] | None = None) -> None:
        self._values = values
        self.indexes = indexes

    def at(self, map_index: int) -> Any:
        """The value of instance ``map_index``, or None if it has none."""
        if self.indexes is None:
            return self._values[map_index] if 0 <= map_index < len(self._values) else None
        for position, index in enumerate(self.indexes):
            if index == map_index:
                return self._values[position]
        return None

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, index: Any) -> Any:
        return self._values[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"ResultSequence({list(self._values)!r})"


class SparseSequence(Sequence[Any]):
    """A long upstream value of which one mapped instance needs only a few elements: it keeps
    the length and those elements, so a WorkItem stays small however long the list is."""

    def __init__(self, length: int, elements: dict[int, Any]) -> None:
        self._length = length
        self._elements = elements

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: Any) -> Any:
        try:
            return self._elements[index]
        except (KeyError, TypeError):
            raise IndexError(f"element {index!r} was not sent to this task instance") from None

    def __repr__(self) -> str:
        return f"SparseSequence({self._length}, {self._elements!r})"


class InputsSource:
    """An :class:`~tradewind.definitions.xcom_arg.XComSource` over a WorkItem's ``inputs``.

    The scheduler already shaped the values: a mapped upstream arrives as a ResultSequence, an
    upstream in the same mapped task group as the value of the same map index."""

    def __init__(self, inputs: dict[tuple[str, str], Any], task_id: str = "", map_index: int = -1) -> None:
        self.inputs = inputs
        self.task_id = task_id
        self.map_index = map_index

    def value(self, task_id: str, key: str) -> Any:
        return self.inputs.get((task_id, key))

    def length(self, task_id: str, key: str) -> int:
        raw = self.inputs.get((task_id, key))
        if not isinstance(raw, (list, tuple, dict, ResultSequence, SparseSequence)):
            raise NotMappable(task_id, raw)
        return len(raw)

    def item(self, task_id: str, key: str, index: int) -> Any:
        raw = self.inputs.get((task_id, key))
        if isinstance(raw, dict):
            return list(raw.items())[index]
        if raw is None:
            raise NotMappable(task_id, raw)
        return raw[index]
