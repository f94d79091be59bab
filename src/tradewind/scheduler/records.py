"""One task instance's record inside a run, and the small rules about it (retry delay, what
decides a task's number of instances)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tradewind.definitions.mapping import ExpandInput
from tradewind.definitions.serialized import SerializedTask
from tradewind.definitions.states import TaskInstanceState
from tradewind.runtime.work import ErrorInfo

UNMAPPED = -1  # the map index of an unmapped instance (and of a mapped task not yet expanded)


@dataclass
class InstanceRecord:
    """Mutable record of one task instance inside a run."""

    task_id: str
    map_index: int = UNMAPPED
    state: TaskInstanceState | None = None
    try_number: int = 0
    started_at: datetime | None = None
    ended_at: datetime | None = None
    label: str | None = None
    error: ErrorInfo | None = None
    retry_at: datetime | None = None
    xcoms: dict[str, Any] = field(default_factory=dict)
    held: bool = False  # decided to run, waiting for room under a concurrency limit
    max_tries: int | None = None  # set when cleared: tries used so far + retries (Airflow's rule)
    reschedule_since: datetime | None = None  # a rescheduled sensor: when its first poke started
    hostname: str | None = None  # where the try reported running (kept once it ends)
    pid: int | None = None

    def tries_allowed(self, task: SerializedTask) -> int:
        return self.max_tries if self.max_tries is not None else task.retries + 1

    @property
    def duration(self) -> float | None:
        if self.started_at and self.ended_at:
            return (self.ended_at - self.started_at).total_seconds()
        return None

    @property
    def return_value(self) -> Any:
        return self.xcoms.get("return_value")


def retry_delay_for(task: SerializedTask, try_number: int) -> timedelta:
    """Airflow's rule: ``retry_delay``, doubled per try with exponential backoff, capped by max_retry_delay."""
    delay = task.retry_delay
    if task.retry_exponential_backoff:
        delay = delay * (2 ** max(try_number - 1, 0))
    if task.max_retry_delay is not None:
        delay = min(delay, task.max_retry_delay)
    return delay


def expand_input_of(task: SerializedTask) -> ExpandInput | None:
    """What decides the number of instances: the mapped task's own input or its group's."""
    if task.is_mapped:
        return task.expand_input
    group = task.mapped_group
    return group.expand_input if group is not None else None


def producers_of(expand_input: ExpandInput) -> set[str]:
    return {plain.task_id for arg in expand_input.iter_xcom_args() for plain in arg.iter_plain()}
