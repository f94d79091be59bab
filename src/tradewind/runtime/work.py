"""The values that cross the boundary between the scheduler and a worker. All picklable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import TaskInstanceState


@dataclass(frozen=True)
class RunContext:
    """What a task needs to know about the DAG run it belongs to. A manual run of a DAG written
    for Airflow 3, triggered without a logical date, has none and no data interval (all three
    None); ``run_after`` is when it may start (None: not recorded, as in runs made before it was)."""

    dag_id: str
    run_id: str
    logical_date: datetime | None
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    run_type: str = "manual"
    conf: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    test_mode: bool = False
    run_after: datetime | None = None
    # an asset-triggered run: the events it consumed (runtime/asset_events.py; docs/adr/0012)
    asset_events: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class WorkItem:
    """Everything a worker needs to run one task instance; no database handle inside."""

    key: TaskInstanceKey
    context: RunContext
    dag_file: str | None = None
    dag_file_hash: str | None = None
    # XCom values of upstream tasks, keyed by (task_id, key). A mapped upstream's value is the
    # ordered list of its instances' values (instances that returned None are left out).
    inputs: dict[tuple[str, str], Any] = field(default_factory=dict)
    max_tries: int = 1
    # a sensor in reschedule mode: when its first poke started (its timeout counts from there)
    rescheduled_since: datetime | None = None
    # not a task's try but the DAG's on_success_callback (True) / on_failure_callback (False) for
    # the run that ended, with Airflow's reason; ``key`` names the instance whose context it gets
    dag_callback: tuple[bool, str] | None = None


@dataclass(frozen=True)
class ErrorInfo:
    """The user's exception, kept as text so it survives pickling and storage."""

    type: str
    message: str
    traceback: str


@dataclass(frozen=True)
class TaskStarted:
    """A worker began a try of a task instance: where (host and process) and when. Sent only
    for a try still running when the worker next reports: one that ends first is told by its
    result alone."""

    key: TaskInstanceKey
    started_at: datetime
    hostname: str | None = None
    pid: int | None = None


@dataclass(frozen=True)
class TaskResult:
    """Everything a worker produces for one try of one task instance."""

    key: TaskInstanceKey
    state: TaskInstanceState
    started_at: datetime
    ended_at: datetime
    return_value: Any = None
    xcoms: dict[str, Any] = field(default_factory=dict)
    error: ErrorInfo | None = None
    retryable: bool = True
    label: str | None = None
    skip_task_ids: tuple[str, ...] = ()
    reschedule_at: datetime | None = None  # state up_for_reschedule: when to run it again
    retry_delay: timedelta | None = None  # the task's retry_policy chose this delay for its next try
    # the try never reached the task's code because of a fault of the machine (its log cannot
    # be written: disk full, permissions, read-only): the try is not used; the scheduler puts the
    # instance back and pauses before sending work again (``state`` is FAILED for any other reader)
    machine_fault: bool = False
    # a TriggerDagRunOperator asks for a run of another DAG (its fields: scheduler/trigger_requests.py)
    trigger_request: dict[str, Any] | None = None
    # a success's asset events, one per outlet asset (runtime/asset_events.py; docs/adr/0012)
    asset_events: tuple[dict[str, Any], ...] = ()

    @property
    def duration(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()
