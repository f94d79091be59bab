"""The errors tradewind raises, grouped by who must act.

One root, :class:`TradewindError`. A DAG author fixes a :class:`DagDefinitionError`
or :class:`MappingError`; a failure inside user code reaches the user as a failed task
instance whose :class:`~tradewind.runtime.work.ErrorInfo` keeps the original exception.
"""

from __future__ import annotations


class TradewindError(Exception):
    """Root of every error tradewind raises on purpose."""


class DagDefinitionError(TradewindError):
    """A DAG or task is defined wrongly (bad id, cycle, duplicate task, bad argument)."""


class MappingError(DagDefinitionError):
    """A dynamic task mapping call is wrong (unknown, duplicate or reserved argument)."""


class UnmappableValueError(TradewindError):
    """At run time, a mapped argument received a value that cannot be mapped over."""

    def __init__(self, task_id: str, argument: str, upstream: str | None, value: object) -> None:
        self.task_id = task_id
        self.argument = argument
        self.upstream = upstream
        self.value_type = type(value).__name__
        source = f"the return value of '{upstream}'" if upstream else "a literal value"
        super().__init__(
            f"Task '{task_id}' cannot map over argument '{argument}': it received {source} "
            f"of type {self.value_type}, but expand() needs a list, tuple or dict. "
            f"Return a list from '{upstream or 'the source'}' (or wrap a single value in a list)."
        )


class MapLengthExceededError(TradewindError):
    """An upstream produced more items than ``max_map_length`` allows for one mapped task."""

    def __init__(self, producer: str, consumer: str, length: int, limit: int) -> None:
        self.producer, self.consumer, self.length, self.limit = producer, consumer, length, limit
        super().__init__(
            f"Task '{producer}' returned {length} items for mapped task '{consumer}', "
            f"more than max_map_length={limit}. Raise the limit with "
            f"TRADEWIND__CORE__MAX_MAP_LENGTH (or [core] max_map_length in tradewind.toml)."
        )


class DagNotFound(TradewindError):
    """No DAG with the given id was found in the DAGs folder."""


class TaskNotFound(TradewindError):
    """No task with the given id exists in the DAG."""


class ConfigError(TradewindError):
    """A configuration value is missing or malformed."""


class XComValueError(TradewindError):
    """A task returned a value that cannot be stored as an XCom (not JSON-serialisable)."""


# --- raised by user code to control a task's outcome (Airflow-compatible names below) ---


class TaskSkipped(TradewindError):
    """Raise inside a task to mark it skipped instead of failed."""


class TaskFailedNoRetry(TradewindError):
    """Raise inside a task to fail it at once, without the remaining retries."""


class TaskTimeout(TradewindError):
    """The task ran longer than its ``execution_timeout``."""


class TaskRescheduled(TradewindError):
    """Raised by a sensor in reschedule mode whose condition is not met yet: the worker slot is
    given back and the instance runs again at ``reschedule_at``."""

    def __init__(self, reschedule_at: object) -> None:
        self.reschedule_at = reschedule_at
        super().__init__(f"Rescheduling: the next poke is at {reschedule_at}")


class SensorTimeout(TaskFailedNoRetry):
    """A sensor's condition was not met within its ``timeout``: the task fails without retrying."""


# Airflow spellings, so DAG files that raise or catch them keep working.
AirflowException = TradewindError
AirflowSkipException = TaskSkipped
AirflowFailException = TaskFailedNoRetry
AirflowTaskTimeout = TaskTimeout
AirflowSensorTimeout = SensorTimeout
