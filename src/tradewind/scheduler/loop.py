"""The scheduler: the only writer of run and task state.

One loop, woken by task results (no fixed sleep between a task's end and its downstream's
start): take in DAG versions the processor stored, create runs that are due, start queued runs,
hand ready instances to the executor, record results in batches, finish runs. Each active run
is a :class:`RunState` over the serialized DAG version it was created with, in memory, written
through to the store after every change, so a restarted scheduler rebuilds it and goes on.
"""

from __future__ import annotations

import hashlib
import heapq
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.exc import OperationalError

from tradewind.config import conf
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.serialized import SerializedDAG
from tradewind.definitions.states import DagRunState, TaskInstanceState
from tradewind.executors.base import Executor
from tradewind.processor import DagProcessor
from tradewind.runtime.durable import result_from_log
from tradewind.runtime.work import ErrorInfo, RunContext, TaskResult, TaskStarted, WorkItem
from tradewind.scheduler.admission import ActiveRun, Admission
from tradewind.scheduler.assets import AssetScheduler, with_consumed_events
from tradewind.scheduler.past import LiveRun, PreviousRun, StoredRun, previous_in_store
from tradewind.scheduler.persistence import RunToStart, StoreGateway, context_from_row
from tradewind.scheduler.run_state import InstanceRecord, RunState
from tradewind.scheduler.trigger_requests import carry_out as carry_out_trigger
from tradewind.store.dag_versions import DagState
from tradewind.store.secrets import StoreSecrets

S = TaskInstanceState
SEEN_MARGIN = timedelta(seconds=2)  # DAG rows are re-read this far back (clocks of several writers)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SchedulerStats:
    runs_finished: int = 0
    results: int = 0
    loops: int = 0
    history: list[str] = field(default_factory=list)


class Scheduler:
    """Drives every active DAG run from the serialized DAGs in the store, with one executor.

    It never imports a DAG file: the DAG processor (``processor``, polled between turns, its
    imports in child processes) writes the serialized versions it reads. A turn costs what
    arrived: results, runs whose due time came (an index by next due time), retries whose
    time came (a timer queue), runs triggered or cleared meanwhile.
    """

    def __init__(
        self,
        gateway: StoreGateway,
        executor: Executor,
        *,
        log: TextIO,
        processor: DagProcessor | None = None,
        max_map_length: int = 100_000,
        log_path: Callable[[WorkItem], Path] | None = None,
        only_run_ids: set[str] | None = None,
        heartbeat: Callable[[], None] | None = None,
    ) -> None:
        self.gateway = gateway
        self.executor = executor
        # tasks read Variables and Connections through a read-only handle on this store (adr/0011)
        use_secrets = getattr(executor, "use_secrets", None)
        if use_secrets is not None:
            use_secrets(StoreSecrets(gateway.engine.url.render_as_string(hide_password=False)))
        self.log = log
        self.processor = processor
        self.max_map_length = max_map_length
        self.log_path = log_path
        self.only_run_ids = only_run_ids  # a backfill runs its own runs and creates none
        # called at most once a second from run() (the scheduler lease is renewed there); if it
        # raises, this scheduler may no longer run anything: run() stops at once and re-raises
        self.heartbeat = heartbeat
        self._last_beat = 0.0
        self._abandoned = False  # the heartbeat failed: running tasks are stopped, not waited for
        # faults of the machine (a task log that cannot be written): no work is sent until
        # _paused_until (monotonic); the pause doubles while the fault lasts
        self._fault_pause_first = float(conf.get("scheduler", "fault_pause_seconds"))
        self._fault_pause_max = float(conf.get("scheduler", "fault_pause_max_seconds"))
        self._fault_pause = self._fault_pause_first
        self._paused_until = 0.0
        self._fault_at: datetime | None = None  # when the last faulty try ended (None: no fault now)
        self._held_back: set[tuple[str, str]] = set()  # runs to look at once the pause ends
        # a store that refuses writes (or cannot be reached): the turn's store calls are tried
        # again once the pause (the same one) ends; work marked queued in memory is sent only
        # after that state is written (_unsent)
        self._store_error: str | None = None
        self._store_pause = self._fault_pause_first
        self._unsent: list[WorkItem] = []
        self._to_mark: list[tuple[RunToStart, str]] = []  # runs taken on, not yet marked running
        self._resumed = False  # runs left running by a scheduler that stopped were taken on
        self.dags: dict[str, SerializedDAG] = {}  # newest version of each active DAG
        self.rows: dict[str, DagState] = {}
        self._versions: dict[tuple[str, str], SerializedDAG] = {}
        self._seen_until: datetime | None = None
        self._due: list[tuple[datetime, str]] = []  # (next scheduled run due, dag_id), a heap
        self._due_at: dict[str, datetime] = {}
        self._retries: list[tuple[datetime, tuple[str, str]]] = []  # (retry time, run key), a heap
        self._retry_at: dict[tuple[str, str], datetime] = {}  # the newest entry of each run in it
        self._touched: set[tuple[str, str]] = set()  # runs to look at in this turn
        self.active: dict[tuple[str, str], ActiveRun] = {}
        self.stats = SchedulerStats()
        self._last_poll = 0.0
        self.poll_interval = 0.5  # how often to look for new runs while tasks are running
        self.admission = Admission({})
        self._file_hashes: dict[str, tuple[tuple[int, int], str]] = {}
        # dagrun_timeout: (when the run times out, run key), a heap; DAG callbacks sent to a worker
        self._timeouts: list[tuple[datetime, tuple[str, str]]] = []
        self._callbacks: set[TaskInstanceKey] = set()
        self._callbacks_unsent: list[WorkItem] = []
        # DAG callbacks that were called: their runs' requests (dag_run.callback_request) to clear
        self._callbacks_done: list[tuple[str, str]] = []
        # tries that dagrun_timeout or fail_fast ended while in flight, written: to kill, and why
        self._kills: list[tuple[list[TaskInstanceKey], str]] = []
        # depends_on_past (scheduler/past.py): run -> the run that depends on it, and back
        self._followers: dict[tuple[str, str], tuple[str, str]] = {}
        self._previous_of: dict[tuple[str, str], tuple[str, str]] = {}
        self.assets = AssetScheduler()  # asset events to write, asset-scheduled DAGs (docs/adr/0012)
        self._asset_runs_due = False  # events were queued since the last look for asset-triggered runs

    def say(self, message: str) -> None:
        self.log.write(f"[{_now():%Y-%m-%dT%H:%M:%S}] scheduler: {message}\n")
        self.log.flush()

    # -- DAGs, from the store
    def refresh_dags(self) -> None:
        """Take in DAG rows changed since the last look (new versions, pause flags, removals)."""
        # rows written since the last look, and a margin for writers whose transaction started
        # before it (they stamp updated_at when they begin writing)
        # (nothing is changed in memory before every read succeeded: a store that fails here is
        # asked the same again)
        seen_until = _now() - SEEN_MARGIN
        changes = self.gateway.dag_changes(self._seen_until)
        new_rows = {row.dag_id: row for row in changes if self.rows.get(row.dag_id) != row}
        changed = list(new_rows)
        if not changed:
            self._seen_until = seen_until
            return
        current = [i for i in changed if new_rows[i].is_active and new_rows[i].dag_hash]
        stale = [i for i in current if i not in self.dags or self.dags[i].version != new_rows[i].dag_hash]
        latest = self.gateway.latest_dags(stale) if stale else {}
        pool_sizes = self.gateway.pool_sizes()
        self._seen_until = seen_until
        self.rows.update(new_rows)
        self.dags.update(latest)
        for dag_id in changed:
            if not self.rows[dag_id].is_active:
                self.dags.pop(dag_id, None)
        self.admission.pool_sizes = pool_sizes
        self._index_due(changed)
        self.assets.set_consumers(self.dags.values(), self._paused())

    def _paused(self) -> set[str]:
        return {dag_id for dag_id, row in self.rows.items() if row.is_paused}

    def create_asset_runs(self) -> None:
        """A run for each asset-scheduled DAG whose condition the queued asset events satisfy."""
        self._asset_runs_due = False
        if self.only_run_ids is not None or not self.assets.conditions:
            return
        for context in self.assets.create_runs(self.gateway, self.dags, self._paused()):
            self.say(f"created run {context.run_id} of {context.dag_id} (asset-triggered)")
            self._asset_runs_due = True  # started at the next turn, without waiting

    def _note_assets(self, active: ActiveRun, result: TaskResult) -> None:
        """Keep the asset events of a success the run state took, to write with it."""
        if not result.asset_events:
            return
        record = active.state.instances.get(result.key.task_id, {}).get(result.key.map_index)
        if record is not None and record.state is S.SUCCESS and record.try_number == result.key.try_number:
            self.assets.pending.append((result.key, result.asset_events))

    def _index_due(self, dag_ids: list[str]) -> None:
        """Put the DAGs in the due-run index at their next due time (worked out, and stored, for
        those that have none yet)."""
        if self.only_run_ids is not None:
            return
        now = _now()
        for dag_id in dag_ids:
            row, dag = self.rows[dag_id], self.dags.get(dag_id)
            self._due_at.pop(dag_id, None)
            if dag is None or row.is_paused or not dag.timetable.can_be_scheduled:
                continue
            due = row.next_dagrun_create_after
            if due is None:
                due = now  # unknown: let create_due_runs work it out
            self._due_at[dag_id] = due
            heapq.heappush(self._due, (due, dag_id))

    # -- runs
    def create_scheduled_runs(self) -> None:
        """Create the runs of the DAGs whose next run is due (and only of those)."""
        now = _now()
        due_now: list[SerializedDAG] = []
        while self._due and self._due[0][0] <= now:
            due, dag_id = heapq.heappop(self._due)
            if self._due_at.get(dag_id) != due or dag_id not in self.dags:
                continue  # superseded entry
            del self._due_at[dag_id]
            due_now.append(self.dags[dag_id])
        try:
            made = self.gateway.create_due_runs(due_now, now)
        except BaseException:
            for dag in due_now:  # due again: asked again at the next turn
                self._due_at[dag.dag_id] = now
                heapq.heappush(self._due, (now, dag.dag_id))
            raise
        for dag_id, (created, next_due) in made.items():
            for context in created:
                self.say(f"created run {context.run_id} of {dag_id}")
            if next_due is not None:
                self._due_at[dag_id] = next_due
                heapq.heappush(self._due, (next_due, dag_id))

    def _dag_for_run(self, dag_id: str, dag_hash: str | None) -> SerializedDAG | None:
        latest = self.dags.get(dag_id)
        if dag_hash is None or (latest is not None and latest.version == dag_hash):
            return latest
        key = (dag_id, dag_hash)
        if key not in self._versions:
            found = self.gateway.load_version(dag_id, dag_hash)
            if found is None:
                return latest
            self._versions[key] = found
        return self._versions[key]

    def _may_start(self, run: RunToStart) -> bool:
        row = self.rows.get(run.dag_id)
        if row is None or not row.is_active:
            return False
        if self.only_run_ids is not None:
            return run.run_id in self.only_run_ids
        return not row.is_paused or run.row.run_type == "backfill"  # backfills run while paused, as in Airflow

    def start_queued_runs(self, states: tuple[str, ...] = ("queued",)) -> None:
        running = Counter(dag_id for dag_id, _ in self.active)
        started = self._to_mark  # runs taken on whose marking failed are marked with these
        for run in self.gateway.runs_to_start(states):
            if (run.dag_id, run.run_id) in self.active or not self._may_start(run):
                continue
            dag = self._dag_for_run(run.dag_id, run.dag_hash)
            if dag is None:
                continue
            if run.row.state == "queued" and running[run.dag_id] >= dag.max_active_runs:
                continue
            running[run.dag_id] += 1
            context = with_consumed_events(self.gateway, context_from_row(run.row, dag))
            key = (run.dag_id, run.run_id)
            previous = self._previous_for(key, dag, context) if dag.depends_on_past else None
            # a run that never started has no instance records yet
            records = self.gateway.load_records(run.dag_id, run.run_id) if run.row.start_date else []
            recovered, finished = self._recover_in_flight(dag, context, records)
            if records:
                state = RunState.restore(dag, context, records, max_map_length=self.max_map_length, previous=previous)
                state.changed.update({(r.task_id, r.map_index): r for r in recovered})
            else:
                state = RunState(dag, context, max_map_length=self.max_map_length, previous=previous)
            self.active[key] = ActiveRun(dag, state)
            for result in finished:
                state.apply_result(self._triggered(result))
                self._note_assets(self.active[key], result)
            self._touched.add(key)
            self._now_live(key, state)
            if dag.dagrun_timeout:  # counted from the run's start, as in Airflow
                heapq.heappush(self._timeouts, ((run.row.start_date or _now()) + dag.dagrun_timeout, key))
            started.append((run, dag.version))
            self.say(f"started run {run.run_id} of {run.dag_id}" + (" (resumed)" if records else ""))
        self.gateway.mark_runs_running(started)
        self._to_mark = []

    def _previous_for(self, key: tuple[str, str], dag: SerializedDAG, context: RunContext) -> PreviousRun | None:
        """The previous run of a run with depends_on_past tasks: live when it is active here,
        else its states as stored (read once)."""
        stored = previous_in_store(self.gateway.engine, dag.dag_id, context.logical_date, catchup=dag.catchup)
        if stored is None:
            return None
        if self.only_run_ids is not None and stored.run_id not in self.only_run_ids:
            return None  # the first run of a backfill passes (Airflow's rule)
        previous_key = (dag.dag_id, stored.run_id)
        self._followers[previous_key] = key
        self._previous_of[key] = previous_key
        live = self.active.get(previous_key)
        return LiveRun(stored.run_id, live.state) if live is not None else stored

    def _now_live(self, key: tuple[str, str], state: RunState) -> None:
        """A run started (a cleared one, again): the run that depends on it reads it live now."""
        follower = self.active.get(self._followers.get(key, ("", "")))
        if follower is not None and isinstance(follower.state.previous, StoredRun):
            follower.state.previous = LiveRun(key[1], state)
            follower.state.past_changed()
            self._touched.add(self._followers[key])

    def _past_changed(self, key: tuple[str, str], task_id: str) -> None:
        """An instance of ``task_id`` in run ``key`` changed: the next run's tasks waiting on it
        (depends_on_past) are looked at again; costs the number of waiting tasks."""
        follower_key = self._followers.get(key)
        follower = self.active.get(follower_key) if follower_key is not None else None
        if follower is not None and follower_key is not None and follower.state.past_changed(task_id):
            self._touched.add(follower_key)

    def _recover_in_flight(
        self, dag: SerializedDAG, context: RunContext, records: list[InstanceRecord]
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

    def prepare_ready(self) -> list[WorkItem]:
        """Decide what runs next in the runs that changed and mark it queued (in memory); the
        caller persists before sending, so a scheduler that dies finds these instances in the store."""
        if time.monotonic() < self._paused_until:  # a fault of the machine: send nothing for now
            self._held_back |= self._touched
            return []
        if self._held_back:
            self._touched |= self._held_back
            self._held_back = set()
        now = _now()
        self._time_out_runs(now)
        while self._retries and self._retries[0][0] <= now:
            key = heapq.heappop(self._retries)[1]
            self._retry_at.pop(key, None)
            self._touched.add(key)
        # the touched runs' ready work is admitted in one order across runs and DAGs (priority
        # weight first, as Airflow's scheduler does), not run by run
        candidates = [
            active
            for key in self._touched
            if (active := self.active.get(key)) is not None and active.state.end_reason is None  # timed out: no more
        ]
        ready_of: dict[int, list[InstanceRecord]] = {id(active): [] for active in candidates}
        pending = candidates
        while pending:  # an instance failed by admission makes its downstream decidable now
            for active in pending:
                active.waiting.extend(active.state.schedule())
            for run_id, admitted in self.admission.admit_runs(pending, self._running_across_runs).items():
                ready_of[run_id] += admitted
            pending = [active for active in pending if active.state.needs_schedule]
        chosen = [(active, ready_of[id(active)]) for active in candidates if ready_of[id(active)]]
        if not chosen:
            return []
        inputs = self.gateway.file_input_hashes({a.dag.fileloc for a, _ in chosen if a.dag.fileloc})
        items: list[tuple[int, WorkItem]] = []
        for active, ready in chosen:
            file_hash = self._file_hash(active.dag.fileloc, inputs)
            for item in active.state.work_items(ready):
                weight = self.admission.weight(active.dag, item.key.task_id)
                items.append((-weight, replace(item, dag_file_hash=file_hash)))
            active.state.mark_queued(ready)
            active.in_flight += len(ready)
        items.sort(key=lambda pair: pair[0])  # the executor starts the heaviest first (stable)
        return [item for _, item in items]

    def _time_out_runs(self, now: datetime) -> None:
        """Fail the runs whose ``dagrun_timeout`` passed (a timer queue, not a scan of the runs)."""
        while self._timeouts and self._timeouts[0][0] <= now:
            key = heapq.heappop(self._timeouts)[1]
            active = self.active.get(key)
            if active is not None and active.state.active:
                self.say(f"run {key[1]} of {key[0]} has timed out (dagrun_timeout {active.dag.dagrun_timeout})")
                active.state.time_out()
                active.waiting.clear()
                self._touched.add(key)

    def _dag_callback(self, active: ActiveRun) -> tuple[dict[str, Any], WorkItem] | None:
        """The DAG's on_success_callback / on_failure_callback a finished run owes, if any: the
        request stored with the run's end (migration 0010) and the work item a worker runs (the
        scheduler never imports DAG files; the item's result only says it was called)."""
        if not (active.dag.has_success_callback or active.dag.has_failure_callback):
            return None
        success, reason, item = active.state.dag_callback()
        wanted = active.dag.has_success_callback if success else active.dag.has_failure_callback
        if item is None or not wanted:
            return None
        request = {"success": success, "reason": reason, "task_id": item.key.task_id, "map_index": item.key.map_index}
        return request, replace(item, dag_callback=(success, reason))

    def _send_dag_callback(self, item: WorkItem) -> None:
        if item.key not in self._callbacks:
            self._callbacks.add(item.key)
            self._callbacks_unsent.append(item)

    def _resume_callbacks(self) -> None:
        """Send the DAG callbacks of runs that ended under a scheduler that died before calling
        them (or before hearing that they were called: a callback may then run twice)."""
        for row in self.gateway.owed_callbacks():
            dag = self._dag_for_run(row.dag_id, row.dag_hash)
            request = row.callback_request
            if dag is None or not isinstance(request, dict):
                continue
            records = self.gateway.load_records(row.dag_id, row.run_id)
            state = RunState.restore(dag, context_from_row(row, dag), records, max_map_length=self.max_map_length)
            record = state.instances.get(request.get("task_id", ""), {}).get(request.get("map_index", -1))
            if record is None:
                continue
            [item] = state.work_items([record])
            self.say(
                f"run {row.run_id} of {row.dag_id}: calling its DAG callback ({request['reason']}) after a restart"
            )
            self._send_dag_callback(replace(item, dag_callback=(bool(request["success"]), str(request["reason"]))))

    def _file_hash(self, path: str | None, inputs: dict[str, str]) -> str | None:
        """The version of a DAG file a worker should hold: the sha256 of its bytes (read, never
        imported) and of every file its last import read, as the DAG processor stored it
        (``inputs``: a config or YAML the file builds its DAGs from). A worker holding another
        version imports the file again."""
        if not path:
            return None
        own = self._own_hash(path)
        if own is None or path not in inputs:
            return own
        return hashlib.sha256(f"{own}:{inputs[path]}".encode()).hexdigest()

    def _own_hash(self, path: str) -> str | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        cached = self._file_hashes.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, hashlib.sha256(Path(path).read_bytes()).hexdigest())
            self._file_hashes[path] = cached
        return cached[1]

    def apply_started(self, started: list[TaskStarted]) -> None:
        """Tries that began: their queued instances become running (written with this turn's
        other changes, one write for all of them)."""
        by_run: dict[tuple[str, str], list[TaskStarted]] = {}
        for began in started:
            by_run.setdefault((began.key.dag_id, began.key.run_id), []).append(began)
        for key, events in by_run.items():
            active = self.active.get(key)
            if active is not None and active.state.mark_running(events):
                self._touched.add(key)

    def _take_in(self, results: list[TaskResult]) -> None:
        """What the executor reported: starts first (a try's start never comes after its result)."""
        self.apply_started(self.executor.take_started())
        self.apply_results(results)

    def apply_results(self, results: list[TaskResult]) -> None:
        for result in results:
            if result.key in self._callbacks:  # a DAG callback was called (its log says how it went)
                self._callbacks.discard(result.key)
                self._callbacks_done.append((result.key.dag_id, result.key.run_id))
                continue
            key = (result.key.dag_id, result.key.run_id)
            active = self.active.get(key)
            if active is None:
                continue
            active.in_flight -= 1
            task = active.dag.task_dict.get(result.key.task_id)
            if task is not None:
                self._touched.update(self.admission.release(task, key[0]))
            self._touched.add(key)
            self.stats.results += 1
            if result.machine_fault:
                self._put_back(active, result)
                continue
            if self._fault_at is not None and result.started_at > self._fault_at:
                self._fault_over()
            active.state.apply_result(self._triggered(result))
            if key in self._followers:
                self._past_changed(key, result.key.task_id)
            self._note_assets(active, result)

    def _triggered(self, result: TaskResult) -> TaskResult:
        """A TriggerDagRunOperator's result: the scheduler creates the run it asks for
        (scheduler/trigger_requests.py) and says how the task ends."""
        if result.trigger_request is None:
            return result
        result, said = carry_out_trigger(self.gateway, result)
        if said:
            self.say(said)
        return result

    def _put_back(self, active: ActiveRun, result: TaskResult) -> None:
        """A try that never ran its task because of a fault of the machine: the instance is
        decided again later without using a try, and no work is sent for a while (said once)."""
        record = active.state.instances.get(result.key.task_id, {}).get(result.key.map_index)
        if record is None or record.state not in (S.QUEUED, S.RUNNING) or record.try_number != result.key.try_number:
            return
        record.try_number -= 1
        active.state.reset_to_undecided(record)
        first = self._fault_at is None
        self._fault_at = max(self._fault_at or result.ended_at, result.ended_at)
        if time.monotonic() < self._paused_until:
            return
        pause = self._fault_pause
        self._paused_until = time.monotonic() + pause
        self._fault_pause = min(pause * 2, self._fault_pause_max)
        if first:
            message = result.error.message if result.error else "a fault of the machine"
            self.say(
                f"{message} ({result.key.display} of {result.key.run_id}); tasks are put back without using a "
                f"try, and no work is sent for {pause:g}s, then longer (up to {self._fault_pause_max:g}s) "
                "while this lasts"
            )

    def _fault_over(self) -> None:
        self.say("task logs can be written again: sending work")
        self._fault_at = None
        self._fault_pause = self._fault_pause_first

    def persist_and_finish(self) -> None:
        """Write every change of the runs looked at in this turn in one transaction, then close
        the runs that finished."""
        batches = []
        touched, self._touched = self._touched, set()
        for key in touched:
            active = self.active.get(key)
            if active is None:
                continue
            dag_id, run_id = key
            for message in active.state.events:
                self.say(f"{dag_id} {run_id}: {message}")
            active.state.events.clear()
            if active.in_flight == 0 and not active.waiting and active.state.deadlocked():
                active.state.fail_undecided()
            changes, expanded = active.state.drain_changes(), active.state.take_expanded()
            if changes or expanded:
                batches.append((dag_id, run_id, changes, expanded))
            retry_at = active.state.next_retry_at()
            if retry_at is not None and self._retry_at.get(key) != retry_at:
                self._retry_at[key] = retry_at
                heapq.heappush(self._retries, (retry_at, key))
        pending = self.assets.pending
        try:
            self.gateway.save_many(batches, also=self.assets.write_events if pending else None)
            self.assets.pending = []
            if pending:  # asset events were queued: look for the runs they make at once
                self._last_poll = 0.0
                self._asset_runs_due = True
        except BaseException:
            # nothing was written: the same changes are written at the next try
            for dag_id, run_id, changes, expanded in batches:
                state = self.active[(dag_id, run_id)].state
                for record in changes:
                    state.changed.setdefault((record.task_id, record.map_index), record)
                state.newly_expanded |= expanded
            self._touched |= touched
            raise
        finished: list[tuple[str, str, DagRunState]] = []
        for key in touched:
            active = self.active.get(key)
            if active is None:
                continue
            self._kill_forced(active)
            run_state = active.state.dag_run_state()
            if run_state is not DagRunState.RUNNING and active.in_flight == 0:
                finished.append((*key, run_state))
        owed = {}
        for dag_id, run_id, _ in finished:
            callback = self._dag_callback(self.active[(dag_id, run_id)])
            if callback is not None:
                owed[(dag_id, run_id)] = callback
        try:
            # a DAG callback is stored with the run's end: one that was never called (the scheduler
            # died first) is sent by the next scheduler (_resume_callbacks)
            self.gateway.finish_runs(finished, {key: request for key, (request, _) in owed.items()})
        except BaseException:
            self._touched |= touched  # looked at again (and finished) at the next try
            raise
        if self._callbacks_done:
            self.gateway.callbacks_called(self._callbacks_done)  # on failure: cleared at the next try
            self._callbacks_done = []
        for dag_id, run_id, run_state in finished:
            if (dag_id, run_id) in owed:
                self._send_dag_callback(owed[(dag_id, run_id)][1])
            del self.active[(dag_id, run_id)]
            follower = self.active.get(self._followers.get((dag_id, run_id), ("", "")))
            if follower is not None and follower.state.past_changed():  # states decided without a result
                self._touched.add((follower.state.context.dag_id, follower.state.context.run_id))
            previous_key = self._previous_of.pop((dag_id, run_id), None)
            if previous_key is not None and self._followers.get(previous_key) == (dag_id, run_id):
                del self._followers[previous_key]
            self._retry_at.pop((dag_id, run_id), None)
            self.stats.runs_finished += 1
            self.say(f"run {run_id} of {dag_id} finished: {run_state}")
            if dag_id in self.dags and dag_id not in self._due_at and self.only_run_ids is None:
                self._index_due([dag_id])  # it may have been held by max_active_runs

    def _kill_forced(self, active: ActiveRun) -> None:
        """The tries that dagrun_timeout or fail_fast ended while in flight (their new state is
        written): the executor kills them; each still comes back as one (dropped) result."""
        if not active.state.to_kill:
            return
        by_reason: dict[str, list[TaskInstanceKey]] = {}
        for ti_key, why in active.state.to_kill:
            by_reason.setdefault(why, []).append(ti_key)
        active.state.to_kill.clear()
        self._kills.extend((keys, why) for why, keys in by_reason.items())

    def _send_kills(self) -> None:
        """Hand the executor the tries to kill (after this turn's work was submitted: an item sent
        late, after its instance was ended, is killed too)."""
        kills, self._kills = self._kills, []
        for keys, why in kills:
            shown = ", ".join(k.display for k in keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
            self.say(f"{keys[0].dag_id} {keys[0].run_id}: killing {shown}: {why}")
            self.executor.kill(keys, why)

    def _timeout(self) -> float:
        waits = [0.0 if self._asset_runs_due else 0.5]
        paused = self._paused_until - time.monotonic()
        if paused > 0:
            waits.append(paused)  # retries that came due wait for the end of the pause
        for heap in (self._retries, self._due, self._timeouts) if paused <= 0 else (self._due, self._timeouts):
            if heap:
                waits.append(max(0.0, (heap[0][0] - _now()).total_seconds()))
        return min(waits)

    def _has_runs_to_start(self) -> bool:
        return any(self._may_start(run) for run in self.gateway.runs_to_start())

    def _poll_processor(self) -> None:
        if self.processor is not None:
            report = self.processor.poll()
            if report.imported:
                self.say(
                    f"DAG processor: {report.imported} file(s) imported, {report.new_versions} new DAG version(s), "
                    f"{report.errors} import error(s)"
                )

    def run(self, *, until_idle: bool = False, should_stop: Callable[[], bool] = lambda: False) -> SchedulerStats:
        """Loop until ``should_stop()``; with ``until_idle``, stop once no run is active or queued."""
        self.executor.start()
        if self.processor is not None:
            self.processor.run_once()  # start from an up-to-date store
        self._resumed = False
        self._abandoned = False
        try:
            while not should_stop():
                self.stats.loops += 1
                self._beat()
                items: list[WorkItem] = []
                if self._store_error is None or time.monotonic() >= self._paused_until:
                    try:
                        idle = self._store_turn(until_idle)
                    except OperationalError as exc:
                        self._store_failed(exc)
                    else:
                        if self._store_error is not None:
                            self._store_back()
                        items, self._unsent = self._unsent, []  # their queued state is written
                        items += self._callbacks_unsent  # runs written finished: their DAG callbacks
                        self._callbacks_unsent = []
                        if idle:
                            break
                if items:
                    self.executor.submit(items)
                self._send_kills()
                in_flight = sum(a.in_flight for a in self.active.values()) + len(self._callbacks)
                results = self.executor.next_results(timeout=0 if items else self._timeout()) if in_flight else []
                if not in_flight and not items:
                    time.sleep(self._timeout())  # nothing running: wait for triggers or retries
                if results and in_flight > len(results):
                    # more results are about to land: take them in the same turn (one write, not many)
                    results += self.executor.next_results(timeout=0.002)
                self._take_in(results)
            self._finish_in_flight()
        finally:
            self.executor.stop(wait=not self._abandoned)
            if self.processor is not None:
                self.processor.stop()
        return self.stats

    def _store_turn(self, until_idle: bool) -> bool:
        """The store's part of a turn: take in DAGs and runs, decide what runs next, write it all.
        Raises OperationalError (the store refuses writes, or cannot be reached) with nothing lost:
        the same calls are made again at the next try. True: idle (with ``until_idle``)."""
        if not self._resumed:
            self.refresh_dags()
            self.start_queued_runs(("running", "queued"))  # runs left running by a scheduler that stopped
            self._resume_callbacks()  # DAG callbacks owed by runs that ended under it
            self._resumed = True
        if not self.active or time.monotonic() - self._last_poll >= self.poll_interval:
            # DAG changes and new runs (schedule, triggers) are looked for between results
            self._last_poll = time.monotonic()
            self._poll_processor()
            self.refresh_dags()
            self.create_scheduled_runs()
            self.create_asset_runs()
            self.start_queued_runs()
        self._unsent += self.prepare_ready()  # marked queued in memory: sent once that is written
        self.persist_and_finish()
        if until_idle and not self.active and not self._callbacks:
            self.create_scheduled_runs()  # a run that just ended may make the next one due
            self.create_asset_runs()  # or its asset events a run of another DAG
            if not self._has_runs_to_start():
                return True
            self._last_poll = 0.0
        return False

    def _store_failed(self, exc: OperationalError) -> None:
        """The store refused a write (or a read): send no work, try again after a pause that
        doubles while this lasts; said once."""
        error = str(exc.orig if exc.orig is not None else exc).strip().splitlines()[0]
        first = self._store_error is None
        self._store_error = error
        pause = self._store_pause
        self._paused_until = max(self._paused_until, time.monotonic() + pause)
        self._store_pause = min(pause * 2, self._fault_pause_max)
        self._last_poll = 0.0  # look for runs (and mark those taken on) at the next try
        engine = getattr(self.gateway, "engine", None)
        if engine is not None:
            engine.dispose()  # fresh connections at the next try (SQLite's may stay failed)
        if first:
            self.say(
                f"cannot write to the store: {error}; retrying in {pause:g} s (then longer, up to "
                f"{self._fault_pause_max:g} s, while this lasts); no work is sent meanwhile"
            )

    def _store_back(self) -> None:
        self.say(f"the store can be written again (it said: {self._store_error}): sending work")
        self._store_error = None
        self._store_pause = self._fault_pause_first

    def _beat(self) -> None:
        if self.heartbeat is not None and time.monotonic() - self._last_beat >= 1.0:
            self._last_beat = time.monotonic()
            self._abandoned = True
            self.heartbeat()
            self._abandoned = False

    def _finish_in_flight(self) -> None:
        """On a clean stop: start nothing new, record the results of the tasks still running."""
        for active in self.active.values():
            for record in active.waiting:  # scheduled but never sent: back to be decided again
                record.try_number -= 1
                active.state.reset_to_undecided(record)
            active.waiting.clear()
        for item in self._unsent:  # marked queued but never sent (the store refused the write)
            unsent = self.active.get((item.key.dag_id, item.key.run_id))
            if unsent is None:
                continue
            unsent.in_flight -= 1
            lost = unsent.state.instances.get(item.key.task_id, {}).get(item.key.map_index)
            if lost is not None and lost.state is S.QUEUED and lost.try_number == item.key.try_number:
                lost.try_number -= 1
                unsent.state.reset_to_undecided(lost)
        self._unsent = []
        self._touched.update(self.active)
        while any(a.in_flight for a in self.active.values()):
            self._beat()
            self._take_in(self.executor.next_results(timeout=1.0))
            self._persist_at_stop()
            self._send_kills()
        self._touched.update(self.active)
        if not self._persist_at_stop():
            self.say(
                f"stopping while the store refuses writes ({self._store_error}): the outcomes of the last "
                "tries are in their task logs, where a restarted scheduler takes them from"
            )

    def _persist_at_stop(self) -> bool:
        try:
            self.persist_and_finish()
        except OperationalError as exc:
            if self._store_error is None:
                self._store_failed(exc)
            return False
        if self._store_error is not None:
            self._store_back()
        return True


def _lost(message: str) -> ErrorInfo:
    return ErrorInfo("TaskLost", message, "")
