"""The identity of a task instance, used by every layer (store rows, logs, results)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class TaskInstanceKey:
    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    try_number: int = 1

    @property
    def display(self) -> str:
        """``task`` for an unmapped instance, ``task[3]`` for map index 3."""
        return self.task_id if self.map_index < 0 else f"{self.task_id}[{self.map_index}]"
