"""The state machine of one DAG run, over task-instance states held in memory.

``dags test`` drives it with the inline executor; the persistent scheduler loads the same
structure from the store. Work is proportional to what changed: a task is re-evaluated only
when one of its upstream tasks changed, per-task state counters make a trigger-rule check
O(number of upstream tasks) however many mapped instances they have, and inside a mapped task
group only the map indexes whose upstream instance changed are looked at again.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict, deque
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.definitions import setup_teardown
from tradewind.definitions.dag import DAG
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.mapping import MAPPABLE_LITERALS, ExpandInput
from tradewind.definitions.serialized import SerializedDAG, SerializedTask
from tradewind.definitions.states import DagRunState, TaskInstanceState, TriggerRule
from tradewind.errors import MapLengthExceededError, TradewindError
from tradewind.runtime.inputs import InputsSource, ResultSequence, SparseSequence
from tradewind.runtime.work import ErrorInfo, RunContext, TaskResult, TaskStarted, WorkItem
from tradewind.scheduler.past import PreviousRun, describe, past_depends_met
from tradewind.scheduler.records import UNMAPPED, InstanceRecord, expand_input_of, producers_of, retry_delay_for
from tradewind.scheduler.trigger_rules import Decision, evaluate

S = TaskInstanceState
IN_FLIGHT = (S.SCHEDULED, S.QUEUED, S.RUNNING)
WAITING = (S.UP_FOR_RETRY, S.UP_FOR_RESCHEDULE)  # on the timer heap until retry_at


def _now() -> datetime:
    return datetime.now(UTC)


class RunState:
    """All task instances of one DAG run and the rules that move them forward."""

    def __init__(
        self,
        dag: DAG | SerializedDAG,
        context: RunContext,
        *,
        max_map_length: int = 1024,
        only: set[str] | None = None,
        previous: PreviousRun | None = None,
    ) -> None:
        # the scheduler passes the stored version of the DAG; `dags test` the DAG it imported,
        # serialised here so that both drive the same structure
        self.dag = dag if isinstance(dag, SerializedDAG) else SerializedDAG.from_dag(dag)
        self.context = context
        self.max_map_length = max_map_length
        self.order = [t for t in self.dag.topological_sort() if only is None or t.task_id in only]
        if not self._in_date_range(context):
            self.order = []  # Airflow creates no task instances for a date outside the DAG's dates
        self.instances: dict[str, dict[int, InstanceRecord]] = {
            t.task_id: {UNMAPPED: InstanceRecord(t.task_id)} for t in self.order
        }
        self.counts: dict[str, Counter[TaskInstanceState | None]] = {t.task_id: Counter({None: 1}) for t in self.order}
        self._dirty: set[str] = {t.task_id for t in self.order}
        self._dirty_index: defaultdict[str, set[int]] = defaultdict(set)
        self._pending_tasks: set[str] = {t.task_id for t in self.order}  # some instance not yet decided
        self._backlog: dict[str, deque[InstanceRecord]] = {}  # decided to run, held back by a concurrency limit
        self._previous: dict[str, dict[int, InstanceRecord]] = {}  # instances of a cleared mapped task
        # producer task -> tasks whose number of instances depends on its output (and the first
        # such consumer's name, for the max_map_length message)
        self._watchers: defaultdict[str, set[str]] = defaultdict(set)
        self._map_consumers: dict[str, str] = {}
        self._to_release: set[str] = set()
        for task in self.order:
            expand_input = expand_input_of(task)
            if expand_input is None:
                continue
            group = task.mapped_group
            consumer = task.task_id if group is None else (group.group_id or task.task_id)
            for producer in producers_of(expand_input):
                self._watchers[producer].add(task.task_id)
                self._map_consumers.setdefault(producer, consumer)
        # a teardown also waits for the tasks between its setups and it (see setup_teardown.py)
        self._teardown_scope: dict[str, set[str]] = {}
        for task in self.order:
            if task.is_teardown:
                scope = setup_teardown.teardown_scope(self.dag.task_dict, task.task_id) & self.instances.keys()
                self._teardown_scope[task.task_id] = scope
                for scoped in scope:
                    self._watchers[scoped].add(task.task_id)
        # a work task also needs the setups it works in, when they are not direct upstreams
        self._indirect_setups: dict[str, list[str]] = {}
        has_setups = any(t.is_setup for t in self.order)  # the walks below only when there are some
        for task in self.order if has_setups else ():
            if task.is_teardown:
                continue
            indirect = [
                t
                for t in setup_teardown.relevant_setups(self.dag.task_dict, task.task_id)
                if t not in task.upstream_task_ids and t in self.instances
            ]
            if indirect:
                self._indirect_setups[task.task_id] = indirect
                for setup_id in indirect:
                    self._watchers[setup_id].add(task.task_id)
        self._leaves = setup_teardown.run_state_leaves(
            {t.task_id: t for t in self.order}, lambda t: self.dag.task_dict[t].on_failure_fail_dagrun
        )
        self.events: list[str] = []  # scheduler-level messages for the log
        if not self._in_date_range(context) and context.logical_date is not None:
            self.events.append(
                f"Run '{context.run_id}': logical date {context.logical_date.isoformat()} is outside the DAG's "
                f"start_date..end_date ({self.dag.start_date}..{self.dag.end_date}), so it has no task instances "
                "(as in Airflow); pick a logical date inside that range"
            )
        self.changed: dict[tuple[str, int], InstanceRecord] = {}  # records to write to the store
        self.newly_expanded: set[str] = set()  # tasks whose placeholder row the store must drop
        self._retry_heap: list[tuple[datetime, str, int]] = []  # (retry time, task_id, map_index)
        # instances ended by fail_fast or dagrun_timeout while in flight: their late result is dropped
        self._forced: set[tuple[str, int]] = set()
        # of those, the tries the driver must have the executor kill, and why (taken by the driver)
        self.to_kill: list[tuple[TaskInstanceKey, str]] = []
        self.end_reason: str | None = None  # "timed_out" once dagrun_timeout ended the run
        # depends_on_past (scheduler/past.py): the previous run of the DAG (None: there is none),
        # and the tasks held back by it, looked at again by past_changed()
        self.previous = previous
        self.waiting_on_past: dict[str, str] = {}  # task_id -> why (for messages)

    def _in_date_range(self, context: RunContext) -> bool:
        """A run's logical date within the DAG's ``start_date``..``end_date`` (a backfill: any date;
        a run without a logical date, an Airflow 3 trigger: always, as in Airflow)."""
        if context.run_type == "backfill" or context.logical_date is None:
            return True
        start, end, moment = self.dag.start_date, self.dag.end_date, context.logical_date
        return (start is None or start <= moment) and (end is None or moment <= end)

    @classmethod
    def restore(
        cls,
        dag: DAG | SerializedDAG,
        context: RunContext,
        records: list[InstanceRecord],
        *,
        max_map_length: int = 1024,
        previous: PreviousRun | None = None,
    ) -> RunState:
        """Rebuild a run from stored records (after a restart). In-flight records must have been
        resolved by the caller (reset to None or up_for_retry) before."""
        state = cls(dag, context, max_map_length=max_map_length, previous=previous)
        by_task: defaultdict[str, dict[int, InstanceRecord]] = defaultdict(dict)
        for record in records:
            by_task[record.task_id][record.map_index] = record
        for task in state.order:
            rows = by_task.get(task.task_id)
            if not rows:
                continue
            if any(index >= 0 for index in rows):
                rows.pop(UNMAPPED, None)
                if all(r.state is None for r in rows.values()):
                    # every instance was cleared: expand again (a shorter expansion marks the rest removed)
                    state._previous[task.task_id] = rows
                    continue
            state.instances[task.task_id] = rows
            state.counts[task.task_id] = Counter(r.state for r in rows.values())
            for record in rows.values():
                if record.state in WAITING:
                    if record.state is S.UP_FOR_RESCHEDULE:
                        record.reschedule_since = record.started_at
                    state._wait_for_retry(record)
            if all(r.state is not None for r in rows.values()):
                state._pending_tasks.discard(task.task_id)
        return state

    @property
    def needs_schedule(self) -> bool:
        """Something changed that ``schedule()`` has not looked at yet."""
        return bool(self._dirty or self._dirty_index or self._to_release)

    def take_expanded(self) -> set[str]:
        """Tasks expanded since the last call (the store drops their placeholder rows)."""
        expanded, self.newly_expanded = self.newly_expanded, set()
        return expanded

    def drain_changes(self) -> list[InstanceRecord]:
        """Records changed since the last call, for the caller to persist in one batch."""
        changed = list(self.changed.values())
        self.changed.clear()
        return changed

    # -- bookkeeping
    def _set_state(self, record: InstanceRecord, state: TaskInstanceState | None) -> None:
        self.changed[(record.task_id, record.map_index)] = record
        counts = self.counts[record.task_id]
        counts[record.state] -= 1
        counts[state] += 1
        record.state = state
        if state is None or not state.finished:
            return
        task = self.dag.task_dict[record.task_id]
        group = task.mapped_group
        for downstream_id in task.downstream_task_ids:
            downstream = self.dag.task_dict[downstream_id]
            if group is not None and record.map_index >= 0 and downstream.mapped_group is group:
                self._dirty_index[downstream_id].add(record.map_index)
            else:
                self._dirty.add(downstream_id)
        self._dirty.update(self._watchers.get(record.task_id, ()))
        if record.task_id in self._backlog:
            self._to_release.add(record.task_id)

    def _finished(self, task_id: str) -> bool:
        counts = self.counts[task_id]
        return all(state is not None and state.finished for state, n in counts.items() if n)

    def _upstream_counts(
        self, task: SerializedTask, map_index: int | None = None, outside_group_only: bool = False
    ) -> tuple[Counter[TaskInstanceState], int]:
        """States of the upstream instances that matter: all of them, except that inside a mapped
        task group instance ``i`` looks only at instance ``i`` of an upstream in the same group."""
        merged: Counter[TaskInstanceState] = Counter()
        total = 0
        group = task.mapped_group
        for upstream_id in task.upstream_task_ids:
            counts = self.counts.get(upstream_id)
            if counts is None:  # outside the part of the DAG being run (tasks test)
                continue
            same_group = group is not None and self.dag.task_dict[upstream_id].mapped_group is group
            if same_group and outside_group_only:
                continue
            if same_group and map_index is not None and map_index in self.instances[upstream_id]:
                state = self.instances[upstream_id][map_index].state
                total += 1
                if state is not None:
                    merged[state] += 1
                continue
            for state, n in counts.items():
                total += n
                if state is not None:
                    merged[state] += n
        return merged, total

    # -- inputs
    def _values_of(self, upstream_id: str, consumer: SerializedTask | None, map_index: int) -> dict[str, Any]:
        records = self.instances.get(upstream_id)
        if not records:
            return {}
        upstream = self.dag.task_dict[upstream_id]
        group = upstream.mapped_group
        if consumer is not None and group is not None and consumer.mapped_group is group and map_index in records:
            return dict(records[map_index].xcoms)
        if upstream.expands_at_run_time:
            ordered = sorted((r for r in records.values() if r.map_index >= 0), key=lambda r: r.map_index)
            keys = {k for r in ordered for k in r.xcoms}
            found = {k: [r for r in ordered if r.xcoms.get(k) is not None] for k in keys}
            return {k: ResultSequence([r.xcoms[k] for r in rs], [r.map_index for r in rs]) for k, rs in found.items()}
        return dict(records[UNMAPPED].xcoms) if UNMAPPED in records else {}

    def inputs_for(self, task: SerializedTask, map_index: int = UNMAPPED) -> dict[tuple[str, str], Any]:
        """XCom values of the task's upstream tasks, shaped for instance ``map_index``."""
        inputs: dict[tuple[str, str], Any] = {}
        for upstream_id in task.upstream_task_ids:
            for key, value in self._values_of(upstream_id, task, map_index).items():
                inputs[(upstream_id, key)] = value
        return inputs

    def _producer_inputs(self, expand_input: ExpandInput) -> dict[tuple[str, str], Any]:
        inputs: dict[tuple[str, str], Any] = {}
        for producer in producers_of(expand_input):
            for key, value in self._values_of(producer, None, UNMAPPED).items():
                inputs[(producer, key)] = value
        return inputs

    # -- deciding
    def schedule(self) -> list[InstanceRecord]:
        """Apply trigger rules where something changed; return the instances to run now."""
        ready: list[InstanceRecord] = list(self._due_retries(_now()))
        while self._dirty or self._dirty_index or self._to_release:
            dirty, self._dirty = self._dirty, set()
            dirty_index, self._dirty_index = self._dirty_index, defaultdict(set)
            for task in self.order:
                task_id = task.task_id
                if task_id in self._pending_tasks and (task_id in dirty or task_id in dirty_index):
                    indexes = None if task_id in dirty else dirty_index[task_id]
                    self._admit(task, self._decide(task, indexes))
            to_release, self._to_release = self._to_release, set()
            for task_id in to_release:
                if task_id in self._backlog:
                    ready.extend(self._release(task_id))
        for record in ready:
            record.try_number += 1
            record.retry_at = None
            record.hostname = record.pid = None  # set again if this try reports its start
            self._set_state(record, S.SCHEDULED)
        return ready

    def _limit(self, task: SerializedTask) -> int | None:
        limits = [n for n in (task.max_active_tis_per_dag, task.max_active_tis_per_dagrun) if n]
        return min(limits) if limits else None

    def _admit(self, task: SerializedTask, runnable: list[InstanceRecord]) -> None:
        if runnable:
            for record in runnable:
                record.held = True
            self._backlog.setdefault(task.task_id, deque()).extend(runnable)
            self._to_release.add(task.task_id)

    def _release(self, task_id: str) -> list[InstanceRecord]:
        """Instances of ``task_id`` that may start now under max_active_tis_per_dag(run)."""
        backlog = self._backlog[task_id]
        limit = self._limit(self.dag.task_dict[task_id])
        room = len(backlog) if limit is None else limit - sum(self.counts[task_id][s] for s in IN_FLIGHT)
        released = [backlog.popleft() for _ in range(max(0, min(room, len(backlog))))]
        for record in released:
            record.held = False
        if not backlog:
            del self._backlog[task_id]
        return released

    def _decide(self, task: SerializedTask, indexes: set[int] | None) -> list[InstanceRecord]:
        if task.mapped_group is not None:
            return self._decide_in_group(task, indexes)
        counts, total = self._upstream_counts(task)
        decision = self._evaluate(task, counts, total)
        if decision is Decision.WAIT or not self._past_allows(task, decision):
            return []
        self._pending_tasks.discard(task.task_id)
        records = self.instances[task.task_id]
        if UNMAPPED not in records:  # expanded before a restart: decide the undecided instances
            undecided = [r for r in records.values() if r.state is None and not r.held]
            if decision is Decision.RUN:
                return undecided
            for record in undecided:
                self._set_state(record, S(decision.value))
            return []
        placeholder = records[UNMAPPED]
        if decision is not Decision.RUN:
            self._set_state(placeholder, S(decision.value))
            return []
        if task.expand_input is not None:
            return self._expand(task, task.expand_input, self.inputs_for(task))
        return [placeholder]

    def _decide_in_group(self, task: SerializedTask, indexes: set[int] | None) -> list[InstanceRecord]:
        records = self.instances[task.task_id]
        if UNMAPPED in records:
            counts, total = self._upstream_counts(task, outside_group_only=True)
            decision = evaluate(task.trigger_rule, counts, total)
            if decision in (Decision.SKIP, Decision.UPSTREAM_FAILED):
                self._pending_tasks.discard(task.task_id)
                self._set_state(records[UNMAPPED], S(decision.value))
                return []
            group = task.mapped_group
            assert group is not None and group.expand_input is not None
            producers = producers_of(group.expand_input)
            if not all(self._finished(p) for p in producers if p in self.counts):
                return []
            failed = [p for p in producers if p in self.counts and self.counts[p][S.SUCCESS] == 0]
            if failed:
                self._pending_tasks.discard(task.task_id)
                self._set_state(records[UNMAPPED], S.UPSTREAM_FAILED)
                return []
            self._expand(task, group.expand_input, self._producer_inputs(group.expand_input), pending=True)
            indexes = None
        ready = []
        for index in sorted(indexes) if indexes is not None else list(records):
            record = records.get(index)
            if record is None or record.state is not None or record.held:
                continue
            counts, total = self._upstream_counts(task, map_index=index)
            decision = self._evaluate(task, counts, total)
            if decision is not Decision.WAIT and not self._past_allows(task, decision):
                continue
            if decision is Decision.RUN:
                ready.append(record)
            elif decision is not Decision.WAIT:
                self._set_state(record, S(decision.value))
        undecided = self.counts[task.task_id][None] - len(ready) - len(self._backlog.get(task.task_id, ()))
        if undecided <= 0:
            self._pending_tasks.discard(task.task_id)
        return ready

    def _past_allows(self, task: SerializedTask, decision: Decision) -> bool:
        """``depends_on_past``: may this decision be carried out, given the previous run? Only a
        decision to run waits for it (and one to skip with wait_for_past_depends_before_skipping),
        as in Airflow. A task held back is remembered and looked at again by past_changed()."""
        if (
            not task.depends_on_past
            or self.previous is None
            or (
                decision is not Decision.RUN
                and not (decision is Decision.SKIP and task.wait_for_past_depends_before_skipping)
            )
        ):
            self.waiting_on_past.pop(task.task_id, None)
            return True
        own = self.previous.states(task.task_id)
        downstream = (
            [c for d in task.downstream_task_ids if (c := self.previous.states(d)) is not None]
            if task.wait_for_downstream
            else []
        )
        if past_depends_met(
            own,
            downstream,
            wait_for_downstream=task.wait_for_downstream,
            ignore_first=task.ignore_first_depends_on_past,
        ):
            self.waiting_on_past.pop(task.task_id, None)
            return True
        why = (
            f"its instance in the previous run '{self.previous.run_id}' {describe(own)}"
            if own is None or any(n and s not in (S.SUCCESS, S.SKIPPED) for s, n in own.items())
            else f"the previous run '{self.previous.run_id}' has unfinished downstream tasks (wait_for_downstream)"
        )
        if self.waiting_on_past.get(task.task_id) != why:
            self.events.append(f"Task '{task.task_id}' waits (depends_on_past): {why}")
        self.waiting_on_past[task.task_id] = why
        return False

    def past_changed(self, task_id: str | None = None) -> bool:
        """The previous run changed (an instance of ``task_id`` in it ended, or it was replaced):
        look again at the tasks waiting for it. Costs the number of waiting tasks. True if any."""
        again = {
            waiting
            for waiting in self.waiting_on_past
            if task_id is None
            or waiting == task_id
            or (
                self.dag.task_dict[waiting].wait_for_downstream
                and task_id in self.dag.task_dict[waiting].downstream_task_ids
            )
        }
        self._dirty |= again
        return bool(again)

    def _evaluate(self, task: SerializedTask, counts: Counter[TaskInstanceState], total: int) -> Decision:
        """The task's trigger rule; a teardown also counts its scope and its setups' states."""
        if not task.is_teardown:
            indirect = self._indirect_setups.get(task.task_id)
            if indirect and task.trigger_rule is not TriggerRule.ALWAYS:
                # Airflow's setup constraint: every setup this task works in succeeded
                needed: Counter[TaskInstanceState | None] = Counter()
                for setup_id in indirect:
                    needed.update(self.counts[setup_id])
                if needed[S.FAILED] or needed[S.UPSTREAM_FAILED]:
                    return Decision.UPSTREAM_FAILED
                if needed[S.SKIPPED]:
                    return Decision.SKIP
                if sum(needed.values()) != needed[S.SUCCESS] + needed[S.REMOVED]:
                    return Decision.WAIT
            return evaluate(task.trigger_rule, counts, total)
        counts = Counter(counts)
        for scoped in self._teardown_scope.get(task.task_id, ()):
            for state, n in self.counts[scoped].items():
                total += n
                if state is not None:
                    counts[state] += n
        setups: Counter[TaskInstanceState] = Counter()
        for upstream_id in task.upstream_task_ids:
            if upstream_id in self.counts and self.dag.task_dict[upstream_id].is_setup:
                setups.update({state: n for state, n in self.counts[upstream_id].items() if state is not None})
        return evaluate(task.trigger_rule, counts, total, setups)

    def _expand(
        self,
        task: SerializedTask,
        expand_input: ExpandInput,
        inputs: dict[tuple[str, str], Any],
        pending: bool = False,
    ) -> list[InstanceRecord]:
        """Create the instances of a mapped task (or of a task in a mapped group) in one batch."""
        records = self.instances[task.task_id]
        placeholder = records[UNMAPPED]
        try:
            length = expand_input.total_length(InputsSource(inputs, task.task_id), task.task_id)
        except TradewindError as exc:
            placeholder.error = ErrorInfo(type(exc).__name__, str(exc), "")
            placeholder.started_at = placeholder.ended_at = _now()
            self.events.append(f"Task '{task.task_id}' failed: {exc}")
            self._pending_tasks.discard(task.task_id)
            self._set_state(placeholder, S.FAILED)
            return []
        if length == 0:
            self.events.append(f"Task '{task.task_id}' has 0 items to map over: skipping it")
            self._pending_tasks.discard(task.task_id)
            self._set_state(placeholder, S.SKIPPED)
            return []
        del records[UNMAPPED]
        self.changed.pop((task.task_id, UNMAPPED), None)
        self.newly_expanded.add(task.task_id)
        self.counts[task.task_id][None] -= 1
        previous = self._previous.pop(task.task_id, {})
        for index in range(length):
            records[index] = previous.pop(index) if index in previous else InstanceRecord(task.task_id, index)
            self.changed[(task.task_id, index)] = records[index]
        self.counts[task.task_id][None] += length
        for index, record in previous.items():  # the expansion shrank since the last run
            records[index] = record
            self.counts[task.task_id][None] += 1
            self._set_state(record, S.REMOVED)
        return [] if pending else [records[i] for i in range(length)]

    def reset_to_undecided(self, record: InstanceRecord) -> None:
        """A scheduled instance that was never sent (the scheduler is stopping)."""
        self._set_state(record, None)
        self._pending_tasks.add(record.task_id)
        self._dirty.add(record.task_id)

    def mark_queued(self, records: list[InstanceRecord]) -> None:
        """These scheduled instances were handed to an executor."""
        for record in records:
            self._set_state(record, S.QUEUED)

    def mark_running(self, started: list[TaskStarted]) -> int:
        """These tries began (a worker says so): a queued instance on that try becomes running,
        with its start time, host and pid. A start that comes late (the instance has its result
        already, was cleared, or is on another try) changes nothing. Returns how many moved."""
        moved = 0
        for began in started:
            key = began.key
            record = self.instances.get(key.task_id, {}).get(key.map_index)
            if record is None or record.state is not S.QUEUED or record.try_number != key.try_number:
                continue
            record.started_at, record.ended_at = began.started_at, None
            record.hostname, record.pid = began.hostname, began.pid
            self._set_state(record, S.RUNNING)
            moved += 1
        return moved

    def _wait_for_retry(self, record: InstanceRecord) -> None:
        heapq.heappush(self._retry_heap, (record.retry_at or _now(), record.task_id, record.map_index))

    def _retry_top(self) -> tuple[datetime, str, int] | None:
        """The earliest pending retry (entries of instances that moved on are dropped)."""
        while self._retry_heap:
            at, task_id, map_index = self._retry_heap[0]
            record = self.instances.get(task_id, {}).get(map_index)
            if record is not None and record.state in WAITING and (record.retry_at or at) == at:
                return self._retry_heap[0]
            heapq.heappop(self._retry_heap)
        return None

    def _due_retries(self, now: datetime) -> list[InstanceRecord]:
        """Instances whose retry time has come, from a timer queue (not a scan of instances)."""
        due = []
        while (top := self._retry_top()) is not None and top[0] <= now:
            heapq.heappop(self._retry_heap)
            due.append(self.instances[top[1]][top[2]])
        return due

    def next_retry_at(self) -> datetime | None:
        top = self._retry_top()
        return top[0] if top is not None else None

    def _sparse_inputs(
        self,
        task: SerializedTask,
        inputs: dict[tuple[str, str], Any],
        map_index: int,
        plans: dict[int, _SparsePlan | None],
    ) -> dict[tuple[str, str], Any]:
        """Replace the lists a mapped instance maps over by just the elements it reads."""
        expand_input = expand_input_of(task)
        if expand_input is None or map_index < 0:
            return inputs
        if id(inputs) not in plans:
            plans[id(inputs)] = _SparsePlan.make(task, expand_input, inputs)
        plan = plans[id(inputs)]
        if plan is None:
            return inputs
        positions = expand_input.positions(map_index, plan.source, task.task_id)
        if positions is None:
            return inputs
        picked: defaultdict[tuple[str, str], dict[int, Any]] = defaultdict(dict)
        for task_id, key, position in positions:
            picked[(task_id, key)][position] = plan.values[(task_id, key)][position]
        sparse = dict(inputs)
        for source_key, length in plan.sparse.items():
            sparse[source_key] = SparseSequence(length, picked.get(source_key, {}))
        return sparse

    def work_items(self, records: list[InstanceRecord]) -> list[WorkItem]:
        """One WorkItem per record; inputs are computed once per task (per index inside a mapped
        group), and a mapped instance receives only the elements of the lists it maps over."""
        cache: dict[tuple[str, int], dict[tuple[str, str], Any]] = {}
        plans: dict[int, _SparsePlan | None] = {}
        items = []
        for record in records:
            task = self.dag.task_dict[record.task_id]
            index = record.map_index if task.mapped_group is not None else UNMAPPED
            if (record.task_id, index) not in cache:
                cache[(record.task_id, index)] = self.inputs_for(task, index)
            inputs = self._sparse_inputs(task, cache[(record.task_id, index)], record.map_index, plans)
            key = TaskInstanceKey(
                self.context.dag_id, self.context.run_id, record.task_id, record.map_index, record.try_number
            )
            items.append(
                WorkItem(
                    key=key,
                    context=self.context,
                    dag_file=self.dag.fileloc,
                    inputs=inputs,
                    max_tries=record.tries_allowed(task),
                    rescheduled_since=record.reschedule_since,
                )
            )
        return items

    # -- results
    def apply_result(self, result: TaskResult, *, no_retry_delay: bool = False) -> None:
        record = self.instances[result.key.task_id][result.key.map_index]
        if (record.task_id, record.map_index) in self._forced:
            return  # fail_fast or dagrun_timeout already ended it (adr/0011)
        task = self.dag.task_dict[record.task_id]
        record.started_at, record.ended_at = result.started_at, result.ended_at
        record.label = result.label
        record.error = result.error
        state, retryable = result.state, result.retryable
        if state is S.UP_FOR_RESCHEDULE:
            # a sensor in reschedule mode said "not yet": the slot is free until its next poke,
            # which is a new try that uses none of its retries; its start stays the first poke's
            record.reschedule_since = record.started_at = record.reschedule_since or result.started_at
            record.max_tries = record.tries_allowed(task) + 1
            record.retry_at = result.reschedule_at or _now()
            self._wait_for_retry(record)
        else:
            record.reschedule_since = None
        if state is S.SUCCESS:
            too_long = self._map_length_error(task, result)
            if too_long is not None:
                record.error = ErrorInfo(type(too_long).__name__, str(too_long), "")
                self.events.append(f"Task '{result.key.display}' failed: {too_long}")
                state = S.FAILED
            else:
                record.xcoms = dict(result.xcoms)
        if state is S.FAILED and retryable and record.try_number < record.tries_allowed(task):
            delay = result.retry_delay if result.retry_delay is not None else retry_delay_for(task, record.try_number)
            delay = timedelta(0) if no_retry_delay else delay
            record.retry_at = _now() + delay
            self.events.append(
                f"Task '{result.key.display}' failed on try {record.try_number} of {record.tries_allowed(task)}; "
                f"retrying in {delay.total_seconds():g}s"
            )
            state = S.UP_FOR_RETRY
            self._wait_for_retry(record)
        self._set_state(record, state)
        for skipped_id in result.skip_task_ids:
            self._skip_from(task, result.key.map_index, skipped_id)
        if state is S.FAILED and self.dag.fail_fast:
            self._stop_remaining(record)

    def _force(self, record: InstanceRecord, state: TaskInstanceState, why: str = "") -> None:
        if record.state in (S.QUEUED, S.RUNNING):
            self._forced.add((record.task_id, record.map_index))
            key = TaskInstanceKey(
                self.context.dag_id, self.context.run_id, record.task_id, record.map_index, record.try_number
            )
            self.to_kill.append((key, f"{why}; the instance was set to {state}"))
        record.retry_at = None
        self._set_state(record, state)

    def _stop_remaining(self, failed: InstanceRecord) -> None:
        """``fail_fast``, as Airflow 3 does it: when an instance fails for good, every other
        instance of the run not yet succeeded or failed is ended: a running one fails, any other
        (not started, scheduled, queued, waiting to retry, ...) is skipped; teardowns are left alone."""
        for task in self.order:
            if task.task_id == failed.task_id or task.is_teardown:
                continue
            for record in self.instances[task.task_id].values():
                if record.state in (S.SUCCESS, S.FAILED):
                    continue
                ended = S.FAILED if record.state is S.RUNNING else S.SKIPPED
                if record.state is not ended:
                    self.events.append(f"Task '{task.task_id}' (map index {record.map_index}) {ended} by fail_fast")
                    self._force(record, ended, f"task '{failed.task_id}' failed and the DAG has fail_fast")
            self._pending_tasks.discard(task.task_id)
            self._backlog.pop(task.task_id, None)
            self.waiting_on_past.pop(task.task_id, None)

    def time_out(self) -> None:
        """``dagrun_timeout`` passed: every unfinished instance is skipped (in flight too, as
        Airflow does) and the run fails with the reason ``timed_out``."""
        self.end_reason = "timed_out"
        self.waiting_on_past.clear()
        for task in self.order:
            for record in self.instances[task.task_id].values():
                if record.state is None or not record.state.finished:
                    self._force(record, S.SKIPPED, f"the run timed out (dagrun_timeout {self.dag.dagrun_timeout})")
            self._pending_tasks.discard(task.task_id)
            self._backlog.pop(task.task_id, None)
        self._dirty.clear()
        self._dirty_index.clear()
        self._to_release.clear()

    def fail_now(self, record: InstanceRecord, message: str) -> None:
        """Fail a scheduled instance that can never start (e.g. its pool does not exist)."""
        key = TaskInstanceKey(
            self.context.dag_id, self.context.run_id, record.task_id, record.map_index, record.try_number
        )
        now = _now()
        error = ErrorInfo("SchedulingError", message, "")
        self.events.append(f"Task '{key.display}' failed: {message}")
        self.apply_result(TaskResult(key, S.FAILED, now, now, error=error, retryable=False))

    def _map_length_error(self, task: SerializedTask, result: TaskResult) -> MapLengthExceededError | None:
        """Airflow fails the producer of a list too long for a mapped task that consumes it."""
        value = result.return_value
        consumer = self._map_consumers.get(task.task_id)
        if consumer is None or not isinstance(value, MAPPABLE_LITERALS) or len(value) <= self.max_map_length:
            return None
        return MapLengthExceededError(task.task_id, consumer, len(value), self.max_map_length)

    def _skip_from(self, source: SerializedTask, map_index: int, task_id: str) -> None:
        """Skip what a branch or short-circuit instance chose to skip. Inside a mapped task group
        the choice is per map index: instance ``i`` skips instance ``i`` of the tasks of its own
        group; tasks outside the group are left to their trigger rules."""
        group = source.mapped_group
        if group is None or map_index < 0:
            self.skip_task(task_id)
            return
        target = self.dag.task_dict.get(task_id)
        if target is None or target.mapped_group is not group or task_id not in self._pending_tasks:
            return
        record = self.instances[task_id].get(map_index)
        if record is not None and record.state is None and not record.held:
            self._set_state(record, S.SKIPPED)
            if not self.counts[task_id][None]:
                self._pending_tasks.discard(task_id)

    def skip_task(self, task_id: str) -> None:
        """Skip a task that has not started (a branch did not choose it)."""
        if task_id not in self._pending_tasks:
            return
        self._pending_tasks.discard(task_id)
        for record in self.instances[task_id].values():
            if record.state is None:
                self._set_state(record, S.SKIPPED)

    # -- clearing: run instances again
    def clear(self, task_ids: set[str]) -> None:
        """Reset these tasks, every instance, so the next ``schedule()`` runs them again."""
        self.clear_instances(dict.fromkeys(task_ids))

    def clear_instances(self, selection: Mapping[str, Collection[int] | None]) -> list[InstanceRecord]:
        """Reset instances so the next ``schedule()`` runs them again: per task, the map indexes
        given (None: every instance). A cleared instance gets its retries again (tries used so far
        + retries + 1, Airflow's rule). A mapped task cleared whole expands anew; instances
        beyond a shorter new expansion become ``removed``. The one implementation of clearing:
        the store's ``tasks clear`` restores the run and calls this. Returns the records reset."""
        reset: list[InstanceRecord] = []
        # clearing a task clears its setups and their teardowns too (Airflow's rule)
        extra = setup_teardown.with_setups_and_teardowns(self.dag.task_dict, selection)
        selection = {**{t: None for t in extra if t in self.instances and t not in selection}, **selection}
        for task_id, indexes in selection.items():
            records = self.instances[task_id]
            task = self.dag.task_dict[task_id]
            chosen = [r for r in records.values() if indexes is None or r.map_index in indexes]
            for record in chosen:
                record.max_tries = record.try_number + task.retries + 1
                self._set_state(record, None)
                record.xcoms, record.error, record.label = {}, None, None
                record.started_at = record.ended_at = record.retry_at = record.reschedule_since = None
                record.hostname = record.pid = None
                reset.append(record)
            if not chosen:
                continue
            if UNMAPPED not in records and all(r.state is None for r in records.values()):
                self._previous[task_id] = records  # expand again when it runs
                placeholder = InstanceRecord(task_id)
                self.instances[task_id] = {UNMAPPED: placeholder}
                self.changed[(task_id, UNMAPPED)] = placeholder
                self.counts[task_id] = Counter({None: 1})
            self._pending_tasks.add(task_id)
            self._dirty.add(task_id)
        return reset

    # -- the run as a whole
    @property
    def active(self) -> bool:
        """True while some instance is not in a final state."""
        return any(not self._finished(t.task_id) for t in self.order)

    def deadlocked(self) -> bool:
        """Nothing can move: no instance in flight or held back, nothing left to evaluate."""
        in_flight = any(any(c[s] for s in IN_FLIGHT) or any(c[s] for s in WAITING) for c in self.counts.values())
        if self.waiting_on_past:  # waits for the previous run, however long (as in Airflow)
            return False
        return not in_flight and not self._backlog and not self._dirty and not self._dirty_index and self.active

    def fail_undecided(self) -> None:
        for task_id in list(self._pending_tasks):
            self._pending_tasks.discard(task_id)
            for record in self.instances[task_id].values():
                if record.state is None:
                    self._set_state(record, S.UPSTREAM_FAILED)

    def dag_run_state(self) -> DagRunState:
        if self.active:
            return DagRunState.RUNNING
        if self.end_reason == "timed_out":
            return DagRunState.FAILED
        # leaves decide; a teardown only with on_failure_fail_dagrun (setup_teardown.run_state_leaves)
        for leaf_id in self._leaves:
            if self.counts[leaf_id][S.FAILED] or self.counts[leaf_id][S.UPSTREAM_FAILED]:
                return DagRunState.FAILED
        return DagRunState.SUCCESS

    def dag_callback(self) -> tuple[bool, str, WorkItem | None]:
        """For a run that ended: did it succeed, Airflow's reason ("success", "task_failure",
        "timed_out"), and the instance whose context the DAG callback gets: the failed one that
        ended last, else the one started last (timed out), else the one that ended last."""
        success = self.dag_run_state() is DagRunState.SUCCESS
        records = [r for r in self.records() if r.state is not None]
        earliest = datetime.min.replace(tzinfo=UTC)
        failed = [r for r in records if r.state is S.FAILED]
        if success:
            reason, pool, moment = "success", records, "ended_at"
        elif self.end_reason == "timed_out":
            reason, pool, moment = "timed_out", records, "started_at"
        else:
            reason, pool, moment = "task_failure", failed or records, "ended_at"
        if not pool:
            return success, reason, None
        record = max(pool, key=lambda r: getattr(r, moment) or earliest)
        return success, reason, self.work_items([record])[0]

    def records(self) -> list[InstanceRecord]:
        return [r for t in self.order for r in sorted(self.instances[t.task_id].values(), key=lambda r: r.map_index)]


class _LengthMemo(InputsSource):
    """An inputs source that works out each upstream value's length once."""

    def __init__(self, inputs: dict[tuple[str, str], Any], task_id: str) -> None:
        super().__init__(inputs, task_id)
        self._lengths: dict[tuple[str, str], int] = {}

    def length(self, task_id: str, key: str) -> int:
        found = self._lengths.get((task_id, key))
        if found is None:
            found = self._lengths[(task_id, key)] = super().length(task_id, key)
        return found


class _SparsePlan:
    """What is the same for every instance of a mapped task when its inputs are sent sparse:
    the source to compute positions from, the values to pick from and the lists to thin out."""

    def __init__(self, source: _LengthMemo, values: dict[tuple[str, str], Any], sparse: dict[tuple[str, str], int]):
        self.source = source
        self.values = values
        self.sparse = sparse

    @classmethod
    def make(
        cls, task: SerializedTask, expand_input: ExpandInput, inputs: dict[tuple[str, str], Any]
    ) -> _SparsePlan | None:
        sources = {(p.task_id, p.key) for arg in expand_input.iter_xcom_args() for p in arg.iter_plain()}
        if not sources or not sources <= inputs.keys():
            return None
        values = {key: list(v.items()) if isinstance(v, dict) else v for key, v in inputs.items() if key in sources}
        # a value also passed whole (not only mapped over) must travel whole
        sparse = {
            key: len(inputs[key])
            for key in sources - task.whole_inputs
            if isinstance(inputs[key], (list, tuple, dict, ResultSequence))
        }
        return cls(_LengthMemo(inputs, task.task_id), values, sparse)
