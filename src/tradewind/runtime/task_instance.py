"""The ``ti`` object a running task sees: its identity, XCom push/pull, and skipping downstream tasks."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tradewind.definitions.xcom_arg import RETURN_KEY
from tradewind.runtime.inputs import InputsSource

if TYPE_CHECKING:
    from tradewind.definitions.abstractoperator import AbstractOperator
    from tradewind.runtime.work import WorkItem


class RuntimeTaskInstance:
    """Stands for the task instance inside the worker; what it records travels back in the TaskResult."""

    def __init__(self, item: WorkItem, task: AbstractOperator, source: InputsSource) -> None:
        key = item.key
        self.dag_id = key.dag_id
        self.task_id = key.task_id
        self.run_id = key.run_id
        self.map_index = key.map_index
        self.try_number = key.try_number
        self.max_tries = item.max_tries
        self.task = task
        self.hostname = socket.gethostname()
        self.logical_date = item.context.logical_date
        self._source = source
        self.pushed: dict[str, Any] = {}
        self.skipped: list[str] = []

    def xcom_push(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` for downstream tasks (``return_value`` is set by returning)."""
        self.pushed[key] = value

    def xcom_pull(
        self,
        task_ids: str | Iterable[str] | None = None,
        key: str = RETURN_KEY,
        map_indexes: int | Iterable[int] | None = None,
        default: Any = None,
        **_ignored: Any,
    ) -> Any:
        """Values pushed by upstream tasks; a list when ``task_ids`` is a list."""
        if task_ids is None:
            task_ids = sorted(self.task.upstream_task_ids)
            single = False
        else:
            single = isinstance(task_ids, str)
        ids = [task_ids] if isinstance(task_ids, str) else list(task_ids)
        values = []
        for task_id in ids:
            value = self._source.value(task_id, key)
            if isinstance(map_indexes, int) and value is not None:
                value = value[map_indexes] if map_indexes < len(value) else None
            values.append(default if value is None else value)
        return values[0] if single else values

    def skip_tasks(self, task_ids: Iterable[str]) -> None:
        """Mark these tasks skipped once this task finishes (branching, short-circuit)."""
        self.skipped.extend(t for t in task_ids if t not in self.skipped)

    def __repr__(self) -> str:
        index = "" if self.map_index < 0 else f"[{self.map_index}]"
        return f"<TaskInstance: {self.dag_id}.{self.task_id}{index} {self.run_id} try {self.try_number}>"
