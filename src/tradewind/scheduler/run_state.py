"""The state machine of one DAG run, over task-instance states held in memory.

``dags test`` drives it with the inline executor; the persistent scheduler loads the same
structure from the store. Work is proportional to what changed: a task is re-evaluated only
when one of its upstream tasks changed, and per-task state counters make a trigger-rule check
O(number of upstream tasks), however many mapped instances they have.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.definitions.abstractoperator import AbstractOperator
from tradewind.definitions.dag import DAG
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.mapping import MAPPABLE_LITERALS, MappedOperator
from tradewind.definitions.states import DagRunState, TaskInstanceState
from tradewind.errors import MapLengthExceededError, TradewindError
from tradewind.runtime.inputs import InputsSource
from tradewind.runtime.work import ErrorInfo, RunContext, TaskResult, WorkItem
from tradewind.scheduler.trigger_rules import Decision, evaluate

S = TaskInstanceState
UNMAPPED = -1


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

    @property
    def duration(self) -> float | None:
        if self.started_at and self.ended_at:
            return (self.ended_at - self.started_at).total_seconds()
        return None

    @property
    def return_value(self) -> Any:
        return self.xcoms.get("return_value")


def _now() -> datetime:
    return datetime.now(UTC)


def retry_delay_for(task: AbstractOperator, try_number: int) -> timedelta:
    """Airflow's rule: ``retry_delay``, doubled per try with exponential backoff, capped by max_retry_delay."""
    delay = task.retry_delay
    if task.retry_exponential_backoff:
        delay = delay * (2 ** max(try_number - 1, 0))
    if task.max_retry_delay is not None:
        delay = min(delay, task.max_retry_delay)
    return delay


class RunState:
    """All task instances of one DAG run and the rules that move them forward."""

    def __init__(
        self, dag: DAG, context: RunContext, *, max_map_length: int = 1024, only: set[str] | None = None
    ) -> None:
        self.dag = dag
        self.context = context
        self.max_map_length = max_map_length
        self.order = [t for t in dag.topological_sort() if only is None or t.task_id in only]
        self.instances: dict[str, dict[int, InstanceRecord]] = {
            t.task_id: {UNMAPPED: InstanceRecord(t.task_id)} for t in self.order
        }
        self.counts: dict[str, Counter[TaskInstanceState | None]] = {t.task_id: Counter({None: 1}) for t in self.order}
        self._dirty: set[str] = {t.task_id for t in self.order}
        self._pending_tasks: set[str] = {t.task_id for t in self.order}  # instances not yet decided
        self.events: list[str] = []  # scheduler-level messages for the log

    # -- bookkeeping
    def _set_state(self, record: InstanceRecord, state: TaskInstanceState | None) -> None:
        counts = self.counts[record.task_id]
        counts[record.state] -= 1
        counts[state] += 1
        record.state = state
        if state is not None and state.finished:
            self._dirty.update(self.dag.task_dict[record.task_id].downstream_task_ids)

    def _finished(self, task_id: str) -> bool:
        counts = self.counts[task_id]
        total = sum(counts.values())
        return sum(n for s, n in counts.items() if s is not None and s.finished) == total

    def _upstream_counts(self, task: AbstractOperator) -> tuple[Counter[TaskInstanceState], int]:
        merged: Counter[TaskInstanceState] = Counter()
        total = 0
        for upstream_id in task.upstream_task_ids:
            counts = self.counts.get(upstream_id)
            if counts is None:  # outside the part of the DAG being run (tasks test)
                continue
            for state, n in counts.items():
                total += n
                if state is not None:
                    merged[state] += n
        return merged, total

    # -- inputs
    def inputs_for(self, task: AbstractOperator) -> dict[tuple[str, str], Any]:
        """XCom values of the task's upstream tasks; a mapped upstream gives its ordered values."""
        inputs: dict[tuple[str, str], Any] = {}
        for upstream_id in task.upstream_task_ids:
            records = self.instances.get(upstream_id)
            if not records:
                continue
            upstream = self.dag.task_dict[upstream_id]
            if upstream.is_mapped:
                keys = {k for r in records.values() for k in r.xcoms}
                ordered = sorted((r for r in records.values() if r.map_index >= 0), key=lambda r: r.map_index)
                for key in keys:
                    inputs[(upstream_id, key)] = [r.xcoms[key] for r in ordered if r.xcoms.get(key) is not None]
            else:
                for key, value in records[UNMAPPED].xcoms.items():
                    inputs[(upstream_id, key)] = value
        return inputs

    # -- deciding
    def schedule(self) -> list[InstanceRecord]:
        """Apply trigger rules to every task whose upstream changed; return instances to run now."""
        ready: list[InstanceRecord] = []
        now = _now()
        for record in self._due_retries(now):
            ready.append(record)
        while self._dirty:
            dirty, self._dirty = self._dirty, set()
            for task in self.order:
                if task.task_id in dirty and task.task_id in self._pending_tasks:
                    ready.extend(self._decide(task))
        for record in ready:
            record.try_number += 1
            record.retry_at = None
            self._set_state(record, S.SCHEDULED)
        return ready

    def _decide(self, task: AbstractOperator) -> list[InstanceRecord]:
        counts, total = self._upstream_counts(task)
        decision = evaluate(task.trigger_rule, counts, total)
        if decision is Decision.WAIT:
            return []
        self._pending_tasks.discard(task.task_id)
        placeholder = self.instances[task.task_id][UNMAPPED]
        if decision is Decision.SKIP:
            self._set_state(placeholder, S.SKIPPED)
            return []
        if decision is Decision.UPSTREAM_FAILED:
            self._set_state(placeholder, S.UPSTREAM_FAILED)
            return []
        if isinstance(task, MappedOperator):
            return self._expand(task, placeholder)
        return [placeholder]

    def _expand(self, task: MappedOperator, placeholder: InstanceRecord) -> list[InstanceRecord]:
        source = InputsSource(self.inputs_for(task), self.dag)
        try:
            length = task.expand_input.total_length(source, task.task_id)
        except TradewindError as exc:
            placeholder.error = ErrorInfo(type(exc).__name__, str(exc), "")
            placeholder.started_at = placeholder.ended_at = _now()
            self.events.append(f"Task '{task.task_id}' failed: {exc}")
            self._set_state(placeholder, S.FAILED)
            return []
        if length == 0:
            self.events.append(f"Mapped task '{task.task_id}' has 0 items to map over: skipping it")
            self._set_state(placeholder, S.SKIPPED)
            return []
        records = self.instances[task.task_id]
        del records[UNMAPPED]
        self.counts[task.task_id][None] -= 1
        for index in range(length):
            records[index] = InstanceRecord(task.task_id, index)
        self.counts[task.task_id][None] += length
        return list(records.values())

    def _due_retries(self, now: datetime) -> list[InstanceRecord]:
        due = []
        for task_id in self._retrying:
            for record in self.instances[task_id].values():
                if record.state is S.UP_FOR_RETRY and record.retry_at is not None and record.retry_at <= now:
                    due.append(record)
        return due

    @property
    def _retrying(self) -> list[str]:
        return [tid for tid, counts in self.counts.items() if counts[S.UP_FOR_RETRY] > 0]

    def next_retry_at(self) -> datetime | None:
        times = [
            r.retry_at
            for tid in self._retrying
            for r in self.instances[tid].values()
            if r.state is S.UP_FOR_RETRY and r.retry_at is not None
        ]
        return min(times) if times else None

    def work_item(self, record: InstanceRecord, inputs: dict[tuple[str, str], Any] | None = None) -> WorkItem:
        task = self.dag.task_dict[record.task_id]
        key = TaskInstanceKey(
            self.context.dag_id, self.context.run_id, record.task_id, record.map_index, record.try_number
        )
        return WorkItem(
            key=key,
            context=self.context,
            dag_file=self.dag.fileloc,
            inputs=inputs if inputs is not None else self.inputs_for(task),
            max_tries=task.retries + 1,
        )

    # -- results
    def apply_result(self, result: TaskResult, *, no_retry_delay: bool = False) -> None:
        record = self.instances[result.key.task_id][result.key.map_index]
        task = self.dag.task_dict[record.task_id]
        record.started_at, record.ended_at = result.started_at, result.ended_at
        record.label = result.label
        record.error = result.error
        state, retryable = result.state, result.retryable
        if state is S.SUCCESS:
            too_long = self._map_length_error(task, result)
            if too_long is not None:
                record.error = ErrorInfo(type(too_long).__name__, str(too_long), "")
                self.events.append(f"Task '{result.key.display}' failed: {too_long}")
                state = S.FAILED
            else:
                record.xcoms = dict(result.xcoms)
        if state is S.FAILED and retryable and record.try_number < task.retries + 1:
            delay = timedelta(0) if no_retry_delay else retry_delay_for(task, record.try_number)
            record.retry_at = _now() + delay
            self.events.append(
                f"Task '{result.key.display}' failed on try {record.try_number} of {task.retries + 1}; "
                f"retrying in {delay.total_seconds():g}s"
            )
            state = S.UP_FOR_RETRY
        self._set_state(record, state)
        for skipped_id in result.skip_task_ids:
            self.skip_task(skipped_id)

    def _map_length_error(self, task: AbstractOperator, result: TaskResult) -> MapLengthExceededError | None:
        """Airflow fails the producer of a list too long for a mapped task that consumes it."""
        value = result.return_value
        if not isinstance(value, MAPPABLE_LITERALS) or len(value) <= self.max_map_length:
            return None
        for downstream_id in task.downstream_task_ids:
            downstream = self.dag.task_dict[downstream_id]
            if isinstance(downstream, MappedOperator) and any(
                plain.task_id == task.task_id
                for arg in downstream.expand_input.iter_xcom_args()
                for plain in arg.iter_plain()
            ):
                return MapLengthExceededError(task.task_id, downstream_id, len(value), self.max_map_length)
        return None

    def skip_task(self, task_id: str) -> None:
        """Skip a task that has not started (a branch did not choose it)."""
        if task_id not in self._pending_tasks:
            return
        self._pending_tasks.discard(task_id)
        self._set_state(self.instances[task_id][UNMAPPED], S.SKIPPED)

    # -- the run as a whole
    @property
    def active(self) -> bool:
        """True while something is scheduled, running, waiting to retry or not yet decided."""
        return any(not self._finished(t.task_id) for t in self.order)

    def deadlocked(self) -> bool:
        """Nothing can move: no instance in flight, nothing pending can ever become ready."""
        in_flight = any(
            c[S.SCHEDULED] or c[S.QUEUED] or c[S.RUNNING] or c[S.UP_FOR_RETRY] for c in self.counts.values()
        )
        return not in_flight and not self._dirty and self.active

    def fail_undecided(self) -> None:
        for task_id in list(self._pending_tasks):
            self._pending_tasks.discard(task_id)
            for record in self.instances[task_id].values():
                if record.state is None:
                    self._set_state(record, S.UPSTREAM_FAILED)

    def dag_run_state(self) -> DagRunState:
        if self.active:
            return DagRunState.RUNNING
        leaves = [t for t in self.order if not (t.downstream_task_ids & self.instances.keys())]
        for leaf in leaves:
            if self.counts[leaf.task_id][S.FAILED] or self.counts[leaf.task_id][S.UPSTREAM_FAILED]:
                return DagRunState.FAILED
        return DagRunState.SUCCESS

    def records(self) -> list[InstanceRecord]:
        return [r for t in self.order for r in sorted(self.instances[t.task_id].values(), key=lambda r: r.map_index)]
