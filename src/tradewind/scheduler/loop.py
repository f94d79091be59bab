"""The scheduler: the only writer of run and task state.

One loop, woken by task results (no fixed sleep between a task's end and its downstream's
start): re-read changed DAG files, create runs that are due, start queued runs, hand ready
instances to the executor, record results in batches, finish runs. Each active run is a
:class:`RunState` in memory, written through to the store after every change, so a restarted
scheduler rebuilds it and goes on.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from tradewind.definitions.dag import DAG
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import DagRunState, TaskInstanceState
from tradewind.executors.base import Executor
from tradewind.loader import DagBag, load_dags
from tradewind.loader.ignore import iter_dag_files
from tradewind.runtime.durable import result_from_log
from tradewind.runtime.work import ErrorInfo, RunContext, TaskResult, WorkItem
from tradewind.scheduler.persistence import StoreGateway
from tradewind.scheduler.run_state import InstanceRecord, RunState

S = TaskInstanceState


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ActiveRun:
    dag: DAG
    state: RunState
    in_flight: int = 0
    waiting: deque[InstanceRecord] = field(default_factory=deque)  # scheduled, held by a limit


@dataclass
class SchedulerStats:
    runs_finished: int = 0
    results: int = 0
    loops: int = 0
    history: list[str] = field(default_factory=list)


class Scheduler:
    """Drives every active DAG run of one DAGs folder with one executor."""

    def __init__(
        self,
        dags_folder: Path,
        gateway: StoreGateway,
        executor: Executor,
        *,
        log: TextIO,
        parse_interval: float = 2.0,
        max_map_length: int = 1024,
        log_path: Callable[[WorkItem], Path] | None = None,
        only_run_ids: set[str] | None = None,
    ) -> None:
        self.dags_folder = Path(dags_folder)
        self.gateway = gateway
        self.executor = executor
        self.log = log
        self.parse_interval = parse_interval
        self.max_map_length = max_map_length
        self.log_path = log_path
        self.only_run_ids = only_run_ids  # a backfill runs its own runs and creates none
        self.bag = DagBag(self.dags_folder)
        self.file_hashes: dict[str, str] = {}
        self._file_stamps: dict[str, float] = {}
        self._last_parse = 0.0
        self.active: dict[tuple[str, str], ActiveRun] = {}
        self.stats = SchedulerStats()
        self._last_poll = 0.0
        self.poll_interval = 0.5  # how often to look for new runs while tasks are running
        self.pool_sizes: dict[str, int] = {}
        self.pool_used: Counter[str] = Counter()

    def say(self, message: str) -> None:
        self.log.write(f"[{_now():%Y-%m-%dT%H:%M:%S}] scheduler: {message}\n")
        self.log.flush()

    # -- DAG files
    def _stamps(self) -> dict[str, float]:
        stamps = {}
        for path in iter_dag_files(self.dags_folder) if self.dags_folder.exists() else []:
            try:
                stamps[str(path)] = path.stat().st_mtime
            except FileNotFoundError:
                continue
        return stamps

    def reparse_if_changed(self, force: bool = False) -> bool:
        if not force and time.monotonic() - self._last_parse < self.parse_interval:
            return False
        self._last_parse = time.monotonic()
        stamps = self._stamps()
        if not force and stamps == self._file_stamps:
            return False
        self._file_stamps = stamps
        self.bag = load_dags(self.dags_folder) if self.dags_folder.exists() else DagBag(self.dags_folder)
        self.file_hashes = {
            path: hashlib.sha256(Path(path).read_bytes()).hexdigest() for path in stamps if Path(path).exists()
        }
        self.gateway.sync_dag_bag(self.bag)
        self.pool_sizes = self.gateway.pool_sizes()
        self.say(
            f"parsed {len(stamps)} file(s): {len(self.bag.dags)} DAG(s), {len(self.bag.import_errors)} import error(s)"
        )
        return True

    # -- runs
    def create_scheduled_runs(self) -> None:
        if self.only_run_ids is not None:
            return
        now = _now()
        for dag in self.bag.dags.values():
            for context in self.gateway.due_scheduled_runs(dag, now):
                self.say(f"created run {context.run_id} of {dag.dag_id}")

    def start_queued_runs(self) -> None:
        for dag_id, run_id, context in self.gateway.runs_to_start(self.bag.dags, self.active.keys()):
            dag = self.bag.dags.get(dag_id)
            if dag is None or (self.only_run_ids is not None and run_id not in self.only_run_ids):
                continue
            records = self.gateway.load_records(dag_id, run_id)
            recovered, finished = self._recover_in_flight(dag, context, records)
            if records:
                state = RunState.restore(dag, context, records, max_map_length=self.max_map_length)
                state.changed.update({(r.task_id, r.map_index): r for r in recovered})
                for result in finished:
                    state.apply_result(result)
            else:
                state = RunState(dag, context, max_map_length=self.max_map_length)
            self.active[(dag_id, run_id)] = ActiveRun(dag, state)
            self.gateway.mark_run_running(dag_id, run_id)
            self.say(f"started run {run_id} of {dag_id}" + (" (resumed)" if records else ""))

    def _recover_in_flight(
        self, dag: DAG, context: RunContext, records: list[InstanceRecord]
    ) -> tuple[list[InstanceRecord], list[TaskResult]]:
        """Instances left in flight by a scheduler that died. One whose try finished has its
        outcome at the end of its log: that result is applied, the task does not run again. One
        that started but did not finish (its log exists) counts as a failed try, retried by the
        normal rules. One that never started is scheduled again without using a try."""
        recovered: list[InstanceRecord] = []
        finished: list[TaskResult] = []
        for record in records:
            if record.state not in (S.SCHEDULED, S.QUEUED, S.RUNNING):
                continue
            key = TaskInstanceKey(context.dag_id, context.run_id, record.task_id, record.map_index, record.try_number)
            log = self.log_path(WorkItem(key=key, context=context)) if self.log_path is not None else None
            result = result_from_log(log, key) if log is not None else None
            if result is not None:
                record.state = S.QUEUED
                finished.append(result)
                self.say(f"{key.display} of {context.run_id}: finished before the restart ({result.state})")
                continue
            task = dag.task_dict.get(record.task_id)
            if log is not None and not log.exists():
                record.state = None
                record.try_number = max(record.try_number - 1, 0)
            else:
                retry = task is not None and record.try_number < record.tries_allowed(task)
                record.state, record.retry_at = (S.UP_FOR_RETRY, _now()) if retry else (S.FAILED, None)
                message = "the process running this task died (scheduler or worker killed)"
                record.error = _lost(message)
                self.say(f"{key.display} of {context.run_id}: {message}; now {record.state}")
            recovered.append(record)
        return recovered, finished

    # -- one turn of the loop
    def _running_across_runs(self, dag_id: str, task_id: str) -> int:
        return sum(
            a.state.counts[task_id][S.QUEUED] + a.state.counts[task_id][S.RUNNING]
            for (other, _), a in self.active.items()
            if other == dag_id and task_id in a.state.counts
        )

    def _admit(self, active: ActiveRun) -> list[InstanceRecord]:
        """Take waiting instances while the run's max_active_tasks, each task's
        max_active_tis_per_dag (over all runs of the DAG) and the pools have room."""
        admitted: list[InstanceRecord] = []
        held: deque[InstanceRecord] = deque()
        per_task: Counter[str] = Counter()
        while active.waiting and active.in_flight + len(admitted) < active.dag.max_active_tasks:
            record = active.waiting.popleft()
            task = active.dag.task_dict[record.task_id]
            size = self.pool_sizes.get(task.pool)
            if size is None:
                self._fail_now(
                    active,
                    record,
                    f"pool '{task.pool}' does not exist: create it with `tradewind pools set {task.pool} SLOTS`",
                )
                continue
            limit = task.max_active_tis_per_dag
            if (
                limit is not None
                and self._running_across_runs(active.dag.dag_id, task.task_id) + per_task[task.task_id] >= limit
            ):
                held.append(record)
                continue
            if self.pool_used[task.pool] + task.pool_slots > size:
                held.append(record)
                break
            self.pool_used[task.pool] += task.pool_slots
            per_task[task.task_id] += 1
            admitted.append(record)
        active.waiting.extendleft(reversed(held))
        return admitted

    def _fail_now(self, active: ActiveRun, record: InstanceRecord, message: str) -> None:
        context = active.state.context
        key = TaskInstanceKey(context.dag_id, context.run_id, record.task_id, record.map_index, record.try_number)
        now = _now()
        error = ErrorInfo("SchedulingError", message, "")
        active.state.apply_result(TaskResult(key, S.FAILED, now, now, error=error, retryable=False))
        self.say(f"{key.display} of {context.run_id} failed: {message}")

    def prepare_ready(self) -> list[WorkItem]:
        """Decide what runs next in every active run and mark it queued (in memory); the caller
        persists before sending, so a scheduler that dies finds these instances in the store."""
        items: list[WorkItem] = []
        for active in self.active.values():
            active.waiting.extend(active.state.schedule())
            ready = self._admit(active)
            if not ready:
                continue
            file_hash = self.file_hashes.get(active.dag.fileloc or "")
            items.extend(_with_hash(item, file_hash) for item in active.state.work_items(ready))
            active.state.mark_queued(ready)
            active.in_flight += len(ready)
        return items

    def apply_results(self, results: list[TaskResult]) -> None:
        for result in results:
            active = self.active.get((result.key.dag_id, result.key.run_id))
            if active is None:
                continue
            active.in_flight -= 1
            task = active.dag.task_dict.get(result.key.task_id)
            if task is not None:
                self.pool_used[task.pool] -= task.pool_slots
            active.state.apply_result(result)
            self.stats.results += 1

    def persist_and_finish(self) -> None:
        """Write every change of every active run in one transaction, then close finished runs."""
        batches = []
        for (dag_id, run_id), active in self.active.items():
            for message in active.state.events:
                self.say(f"{dag_id} {run_id}: {message}")
            active.state.events.clear()
            if active.in_flight == 0 and active.state.deadlocked():
                active.state.fail_undecided()
            changes, expanded = active.state.drain_changes(), active.state.take_expanded()
            if changes or expanded:
                batches.append((dag_id, run_id, changes, expanded))
        self.gateway.save_many(batches)
        for (dag_id, run_id), active in list(self.active.items()):
            run_state = active.state.dag_run_state()
            if run_state is not DagRunState.RUNNING and active.in_flight == 0:
                self.gateway.finish_run(dag_id, run_id, run_state)
                del self.active[(dag_id, run_id)]
                self.stats.runs_finished += 1
                self.say(f"run {run_id} of {dag_id} finished: {run_state}")

    def _timeout(self) -> float:
        waits = [0.5]
        for active in self.active.values():
            retry_at = active.state.next_retry_at()
            if retry_at is not None:
                waits.append(max(0.0, (retry_at - _now()).total_seconds()))
        return min(waits)

    def run(self, *, until_idle: bool = False, should_stop: Callable[[], bool] = lambda: False) -> SchedulerStats:
        """Loop until ``should_stop()``; with ``until_idle``, stop once no run is active or queued."""
        self.executor.start()
        self.reparse_if_changed(force=True)
        try:
            while not should_stop():
                self.stats.loops += 1
                self.reparse_if_changed()
                if not self.active or time.monotonic() - self._last_poll >= self.poll_interval:
                    # new runs (schedule, triggers) are looked for between results, not after each one
                    self._last_poll = time.monotonic()
                    self.create_scheduled_runs()
                    self.start_queued_runs()
                items = self.prepare_ready()
                self.persist_and_finish()
                if until_idle and not self.active:
                    self.create_scheduled_runs()  # a run that just ended may make the next one due
                    if not self.gateway.has_runs_to_start(self.bag.dags):
                        break
                    self._last_poll = 0.0
                if items:
                    self.executor.submit(items)
                in_flight = sum(a.in_flight for a in self.active.values())
                results = self.executor.next_results(timeout=0 if items else self._timeout()) if in_flight else []
                if not in_flight and not items:
                    time.sleep(self._timeout())  # nothing running: wait for triggers or retries
                if results and in_flight > len(results):
                    # more results are about to land: take them in the same turn (one write, not many)
                    results += self.executor.next_results(timeout=0.002)
                self.apply_results(results)
            self._finish_in_flight()
        finally:
            self.executor.stop(wait=True)
        return self.stats

    def _finish_in_flight(self) -> None:
        """On a clean stop: start nothing new, record the results of the tasks still running."""
        for active in self.active.values():
            for record in active.waiting:  # scheduled but never sent: back to be decided again
                record.try_number -= 1
                active.state.reset_to_undecided(record)
            active.waiting.clear()
        while any(a.in_flight for a in self.active.values()):
            self.apply_results(self.executor.next_results(timeout=1.0))
            self.persist_and_finish()
        self.persist_and_finish()


def _with_hash(item: WorkItem, file_hash: str | None) -> WorkItem:
    if file_hash is None:
        return item
    return WorkItem(
        key=item.key,
        context=item.context,
        dag_file=item.dag_file,
        dag_file_hash=file_hash,
        inputs=item.inputs,
        max_tries=item.max_tries,
    )


def _lost(message: str) -> ErrorInfo:
    return ErrorInfo("TaskLost", message, "")
