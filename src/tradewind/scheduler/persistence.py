"""The scheduler's view of the store: DAG rows, runs, task-instance records and XComs.

The scheduler keeps each active run as a RunState in memory; this gateway turns its records
into rows (one batched write per turn of the loop) and back again after a restart. The CLI uses
the same gateway to trigger, pause, list and clear.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Engine, select, update

from tradewind.definitions.serialized import SerializedDAG
from tradewind.definitions.states import DagRunState, TaskInstanceState
from tradewind.definitions.timetables import DagRunInfo, DataInterval, Restriction
from tradewind.errors import DagNotFound, TradewindError
from tradewind.runtime.work import ErrorInfo, RunContext
from tradewind.scheduler import external_markers
from tradewind.scheduler.dag_test import run_context_for
from tradewind.scheduler.next_runs import iter_runs, next_run
from tradewind.scheduler.run_state import InstanceRecord, RunState
from tradewind.store import dag_versions as dv
from tradewind.store import queries as q
from tradewind.store.engine import session_scope
from tradewind.store.models import DagRun

FINISHED_RUN_STATES = ("success", "failed")
S = TaskInstanceState


def _now() -> datetime:
    return datetime.now(UTC)


def context_from_row(run: Any, dag: SerializedDAG) -> RunContext:
    start, end = run.data_interval_start, run.data_interval_end
    interval = DataInterval(start, end) if start is not None and end is not None else None
    return run_context_for(
        dag,
        run.logical_date,
        interval,
        run_type=run.run_type,
        run_id=run.run_id,
        conf=dict(run.conf or {}),
        run_after=run.run_after,
    )


@dataclass(frozen=True)
class RunToStart:
    dag_id: str
    run_id: str
    dag_hash: str | None
    row: Any


class StoreGateway:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # what the last clear() reset in other DAGs through ExternalTaskMarkers: (dag_id, run_id, task_id, map_index)
        self.marked_cleared: list[tuple[str, str, str, int]] = []

    # -- DAGs: serialized versions written by the DAG processor
    def dag_changes(self, since: datetime | None) -> list[dv.DagState]:
        with session_scope(self.engine) as session:
            return dv.changed_dags(session, since)

    def latest_dags(self, dag_ids: Collection[str] | None = None) -> dict[str, SerializedDAG]:
        with session_scope(self.engine) as session:
            found = dv.latest_versions(session, dag_ids)
        return {dag_id: SerializedDAG(data, digest) for dag_id, (digest, data) in found.items()}

    def get_dag(self, dag_id: str) -> SerializedDAG:
        """The newest stored version of a DAG, or DagNotFound."""
        found = self.latest_dags([dag_id]).get(dag_id)
        if found is None:
            with session_scope(self.engine) as session:
                errors = q.list_import_errors(session)
            hint = f" ({len(errors)} file(s) failed to import; see `tradewind dags list-import-errors`)"
            raise DagNotFound(f"DAG '{dag_id}' not found" + (hint if errors else ""))
        return found

    def load_version(self, dag_id: str, dag_hash: str) -> SerializedDAG | None:
        with session_scope(self.engine) as session:
            found = dv.get_version(session, dag_id, dag_hash)
        return SerializedDAG(found[1], dag_hash) if found is not None else None

    def version_numbers(self, dag_id: str) -> Mapping[str, int]:
        with session_scope(self.engine) as session:
            return dv.version_numbers(session, dag_id)

    def set_paused(self, dag_id: str, paused: bool) -> None:
        with session_scope(self.engine) as session:
            if not q.set_paused(session, dag_id, paused):
                raise DagNotFound(f"DAG '{dag_id}' not found")

    def is_paused(self, dag_id: str) -> bool:
        with session_scope(self.engine) as session:
            row = q.get_dag(session, dag_id)
            return bool(row and row.is_paused)

    def file_input_hashes(self, filelocs: Collection[str]) -> dict[str, str]:
        """fileloc -> the hash of every file its last import read (the DAG processor's record)."""
        if not filelocs:
            return {}
        with session_scope(self.engine) as session:
            return dv.input_hashes(session, filelocs)

    def pool_sizes(self) -> dict[str, int]:
        with session_scope(self.engine) as session:
            return {pool.name: pool.slots for pool in q.get_pools(session)}

    # -- runs
    def create_due_runs(
        self, dags: list[SerializedDAG], now: datetime
    ) -> dict[str, tuple[list[RunContext], datetime | None]]:
        """Create the scheduled runs of ``dags`` whose data interval has ended (catchup,
        end_date and max_active_runs respected), all in one transaction. Returns, per DAG, the
        runs created and when its next run becomes due (None: never, or not before one of its
        runs ends)."""
        found: dict[str, tuple[list[RunContext], datetime | None]] = {}
        if not dags:
            return found
        ids = [dag.dag_id for dag in dags]
        with session_scope(self.engine) as session:
            rows = {row.dag_id: row for row in q.dag_schedule_rows(session, ids)}
            active_runs = q.count_active_runs(session, ids)
            new_runs: list[dict[str, Any]] = []
            dag_updates: list[dict[str, Any]] = []
            for dag in dags:
                row = rows.get(dag.dag_id)
                if row is None or row.is_paused or not row.is_active:
                    found[dag.dag_id] = ([], None)
                    continue
                start, end = row.next_dagrun_data_interval_start, row.next_dagrun_data_interval_end
                last = DataInterval(start, end) if start is not None and end is not None else None
                created, due, last = self._due_runs_of(dag, last, active_runs.get(dag.dag_id, 0), now)
                new_runs.extend(q.run_row(context, dag.version) for context in created)
                update = {"dag_id": dag.dag_id, "next_dagrun_create_after": due}
                if last is not None:
                    update.update(
                        next_dagrun=last.start,
                        next_dagrun_data_interval_start=last.start,
                        next_dagrun_data_interval_end=last.end,
                    )
                dag_updates.append(update)
                found[dag.dag_id] = (created, due)
            q.insert_runs(session, new_runs)
            q.update_dag_rows(session, dag_updates)
        return found

    @staticmethod
    def _due_runs_of(
        dag: SerializedDAG, last: DataInterval | None, active: int, now: datetime
    ) -> tuple[list[RunContext], datetime | None, DataInterval | None]:
        created: list[RunContext] = []
        restriction = Restriction(dag.start_date, dag.end_date, dag.catchup)
        while True:
            info = next_run(dag.timetable, last, restriction, now)
            if info is None:
                return created, None, last
            if info.run_after > now:
                return created, info.run_after, last
            if active >= dag.max_active_runs:
                return created, None, last  # looked at again when one of its runs ends
            run_id = f"scheduled__{info.logical_date.isoformat()}"
            created.append(
                run_context_for(
                    dag,
                    info.logical_date,
                    info.data_interval,
                    run_type="scheduled",
                    run_id=run_id,
                    run_after=info.run_after,
                )
            )
            active += 1
            last = info.data_interval

    def next_runs(self, dag: SerializedDAG, count: int, now: datetime | None = None) -> tuple[list[DagRunInfo], bool]:
        """The next ``count`` runs the scheduler would create for ``dag`` after the last one it
        created (``dags next-execution``), and whether the DAG is paused."""
        with session_scope(self.engine) as session:
            rows = q.dag_schedule_rows(session, [dag.dag_id])
        row = rows[0] if rows else None
        start, end = (row.next_dagrun_data_interval_start, row.next_dagrun_data_interval_end) if row else (None, None)
        last = DataInterval(start, end) if start is not None and end is not None else None
        restriction = Restriction(dag.start_date, dag.end_date, dag.catchup)
        found = list(islice(iter_runs(dag.timetable, restriction, now or _now(), last), count))
        return found, bool(row and row.is_paused)

    def _insert_run(
        self, session: Any, context: RunContext, dag_hash: str | None, triggered_by: list[Any] | None = None
    ) -> None:
        run = q.create_dag_run(
            session,
            dag_id=context.dag_id,
            run_id=context.run_id,
            logical_date=context.logical_date,
            data_interval_start=context.data_interval_start,
            data_interval_end=context.data_interval_end,
            run_type=context.run_type,
            conf=context.conf,
            dag_hash=dag_hash,
            run_after=context.run_after,
        )
        if triggered_by is not None:
            run.triggered_by = triggered_by  # written with the run (migration 0010)

    def create_manual_run(
        self,
        dag: SerializedDAG,
        logical_date: datetime | None,
        conf: dict[str, Any],
        run_id: str | None = None,
        triggered_by: list[Any] | None = None,
    ) -> RunContext:
        """Queue a manual run. Without a logical date: the trigger time is its logical date, or, for
        a DAG written for Airflow 3 (``logical_date_on_trigger`` False), it has none and no data
        interval, and is named ``manual__<trigger time>``, as in Airflow 3. ``triggered_by``: the
        ids of the try of a TriggerDagRunOperator that asked for it, stored with it."""
        now = _now()
        if logical_date is None and not dag.logical_date_on_trigger:
            context = run_context_for(dag, None, None, run_id=run_id, conf=conf, run_after=now)
        else:
            moment = logical_date or now
            interval = dag.timetable.infer_manual_data_interval(run_after=moment)
            context = run_context_for(dag, moment, interval, run_id=run_id, conf=conf, run_after=now)
        with session_scope(self.engine) as session:
            self._insert_run(session, context, dag.version, triggered_by)
        return context

    def run_triggered_by(self, dag_id: str, run_id: str) -> list[Any] | None:
        """The ids of the try that asked for this run (a TriggerDagRunOperator), if one did."""
        with session_scope(self.engine) as session:
            run = q.get_dag_run(session, dag_id, run_id)
            return list(run.triggered_by) if run is not None and run.triggered_by is not None else None

    def create_backfill_runs(self, dag: SerializedDAG, start: datetime, end: datetime) -> list[RunContext]:
        if not dag.timetable.periodic:
            raise TradewindError(
                f"DAG '{dag.dag_id}' has no periodic schedule ({dag.timetable.summary}): nothing to backfill"
            )
        contexts: list[RunContext] = []
        with session_scope(self.engine) as session:
            for info in iter_runs(dag.timetable, Restriction(start, end, catchup=True), end):
                if info.logical_date > end:
                    break
                run_id = f"backfill__{info.logical_date.isoformat()}"
                if q.get_dag_run(session, dag.dag_id, run_id) is not None:
                    continue
                context = run_context_for(
                    dag,
                    info.logical_date,
                    info.data_interval,
                    run_type="backfill",
                    run_id=run_id,
                    run_after=info.run_after,
                )
                self._insert_run(session, context, dag.version)
                contexts.append(context)
        return contexts

    def runs_to_start(self, states: tuple[str, ...] = ("queued",)) -> list[RunToStart]:
        """Runs in ``states``, oldest first (the scheduler decides which it may start)."""
        with session_scope(self.engine) as session:
            rows = q.list_dag_runs(session, None, states=list(states), oldest_first=True)
            session.expunge_all()
        return [RunToStart(r.dag_id, r.run_id, r.dag_hash, r) for r in rows]

    def mark_runs_running(self, runs: list[tuple[RunToStart, str]]) -> None:
        """Mark runs the scheduler took on as running (each keeps its first start date), and
        record the DAG version of those created before there was one, in one transaction."""
        now = _now()
        updates = [
            {
                "id": run.row.id,
                "state": "running",
                "start_date": run.row.start_date or now,
                "end_date": None,
                "dag_hash": dag_hash,
            }
            for run, dag_hash in runs
        ]
        if updates:
            with session_scope(self.engine) as session:
                session.execute(update(DagRun), updates)

    def finish_runs(
        self,
        finished: list[tuple[str, str, DagRunState]],
        callbacks: Mapping[tuple[str, str], dict[str, Any]] | None = None,
    ) -> None:
        """Record the end of these runs, in one transaction, with the DAG callback each still owes
        (``callbacks``, by (dag_id, run_id); migration 0010), so that a scheduler that dies before
        the callback is called finds it when it starts again."""
        if not finished:
            return
        now = _now()
        owed = callbacks or {}
        with session_scope(self.engine) as session:
            for dag_id, run_id, state in finished:
                session.execute(
                    update(DagRun)
                    .where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
                    .values(state=str(state), end_date=now, callback_request=owed.get((dag_id, run_id))),
                    execution_options={"synchronize_session": False},
                )

    def owed_callbacks(self) -> list[Any]:
        """Finished runs whose DAG callback was not called yet (or not known to have been)."""
        with session_scope(self.engine) as session:
            rows = list(session.scalars(select(DagRun).where(DagRun.callback_request.is_not(None))))
            session.expunge_all()
        return rows

    def callbacks_called(self, runs: Collection[tuple[str, str]]) -> None:
        """The DAG callbacks of these runs were called: they are owed no more."""
        if not runs:
            return
        with session_scope(self.engine) as session:
            for dag_id, run_id in runs:
                session.execute(
                    update(DagRun)
                    .where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
                    .values(callback_request=None),
                    execution_options={"synchronize_session": False},
                )

    def list_runs(self, dag_id: str) -> list[Any]:
        with session_scope(self.engine) as session:
            runs = q.list_dag_runs(session, dag_id)
            session.expunge_all()
            return sorted(runs, key=lambda r: r.logical_date or r.run_after or r.queued_at, reverse=True)

    # -- task instances
    def load_records(self, dag_id: str, run_id: str) -> list[InstanceRecord]:
        with session_scope(self.engine) as session:
            rows = q.list_task_instances(session, dag_id, run_id)
            xcoms = q.get_xcoms(session, dag_id, run_id)
        by_key: dict[tuple[str, int], dict[str, Any]] = {}
        for xcom in xcoms:
            by_key.setdefault((xcom.task_id, xcom.map_index), {})[xcom.key] = xcom.value
        records = []
        for row in rows:
            state = TaskInstanceState(row.state) if row.state else None
            records.append(
                InstanceRecord(
                    task_id=row.task_id,
                    map_index=row.map_index,
                    state=state,
                    try_number=row.try_number,
                    started_at=row.start_date,
                    ended_at=row.end_date,
                    label=row.rendered_map_index,
                    error=ErrorInfo("TaskError", row.error, "") if row.error else None,
                    retry_at=row.next_retry_at,
                    xcoms=by_key.get((row.task_id, row.map_index), {}),
                    max_tries=row.max_tries or None,
                    hostname=row.hostname,
                    pid=row.pid,
                )
            )
        return records

    def save_records(self, dag_id: str, run_id: str, records: Iterable[InstanceRecord], expanded: set[str]) -> None:
        """Write changed records (and their XComs) in one transaction."""
        self.save_many([(dag_id, run_id, list(records), expanded)])

    def save_many(
        self, batches: list[tuple[str, str, list[InstanceRecord], set[str]]], also: Callable[[Any], Any] | None = None
    ) -> None:
        """Write the changes of several runs in one transaction (and what ``also`` writes with
        the session: the asset events of the successes, scheduler/assets.py)."""
        if not batches and also is None:
            return
        with session_scope(self.engine) as session:
            for dag_id, run_id, records, expanded in batches:
                self._write(session, dag_id, run_id, records, expanded)
            if also is not None:
                also(session)

    def _write(self, session: Any, dag_id: str, run_id: str, records: list[InstanceRecord], expanded: set[str]) -> None:
        rows = []
        xcom_rows = []
        for record in records:
            rows.append(
                {
                    "dag_id": dag_id,
                    "run_id": run_id,
                    "task_id": record.task_id,
                    "map_index": record.map_index,
                    "try_number": record.try_number,
                    "state": str(record.state) if record.state else None,
                    "start_date": record.started_at,
                    "end_date": record.ended_at,
                    "duration": record.duration,
                    "rendered_map_index": record.label,
                    "next_retry_at": record.retry_at,
                    "max_tries": record.max_tries or 0,
                    "error": record.error.message if record.error else None,
                    "hostname": record.hostname,
                    "pid": record.pid,
                }
            )
            if record.state is TaskInstanceState.SUCCESS:
                for key, value in record.xcoms.items():
                    xcom_rows.append(
                        {
                            "dag_id": dag_id,
                            "run_id": run_id,
                            "task_id": record.task_id,
                            "map_index": record.map_index,
                            "key": key,
                            "value": value,
                        }
                    )
        if expanded:
            q.delete_task_instances(session, dag_id, run_id, task_ids=expanded, map_index=-1)
        if rows:
            q.upsert_task_instances(session, rows)
        if xcom_rows:
            q.set_xcoms(session, xcom_rows)

    def task_states(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of a run as plain rows (see ``task_states_page``)."""
        return self.task_states_page(dag_id, run_id)[0]

    def task_states_page(
        self,
        dag_id: str,
        run_id: str,
        *,
        states: Collection[str | None] | None = None,
        task_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of a run's task instances as plain rows, and how many match in all; raises
        DagRunNotFound for a run that does not exist."""
        with session_scope(self.engine) as session:
            if q.get_dag_run(session, dag_id, run_id) is None:
                raise q.DagRunNotFound(dag_id, run_id)
            rows, total = q.page_task_instances(
                session, dag_id, run_id, states=states, task_id=task_id, limit=limit, offset=offset
            )
            return [
                {
                    "task_id": r.task_id,
                    "map_index": r.map_index,
                    "state": r.state,
                    "try_number": r.try_number,
                    "start_date": r.start_date.isoformat() if r.start_date else None,
                    "end_date": r.end_date.isoformat() if r.end_date else None,
                    "duration": r.duration,
                    "label": r.rendered_map_index,
                    "error": r.error,
                }
                for r in rows
            ], total

    def progress(self, dag_id: str, run_ids: list[str]) -> tuple[int, int, int]:
        """(finished runs, finished task instances, task instances) among ``run_ids``."""
        wanted = set(run_ids)
        with session_scope(self.engine) as session:
            runs = [r for r in q.list_dag_runs(session, dag_id) if r.run_id in wanted]
            done_runs = sum(1 for r in runs if r.state in FINISHED_RUN_STATES)
            done = total = 0
            for run_id in wanted:
                for row in q.list_task_instances(session, dag_id, run_id):
                    total += 1
                    done += row.state in ("success", "failed", "skipped", "upstream_failed", "removed")
        return done_runs, done, total

    # -- clearing
    def clear(
        self,
        dag: SerializedDAG,
        *,
        run_id: str | None,
        task_regex: str | None,
        map_index: int | Collection[int] | None,
        only_failed: bool,
        downstream: bool,
        dry_run: bool,
        follow_markers: bool = True,
    ) -> list[tuple[str, str, int]]:
        """Reset matching instances (and their downstream tasks) to be run again; their runs go back
        to queued. Returns (run_id, task_id, map_index) of every instance reset. The run's state
        machine does the resetting (``RunState.clear_instances``), as it would in memory. A cleared
        ExternalTaskMarker also clears its target in another DAG (scheduler/external_markers.py;
        ``self.marked_cleared`` lists those instances), all checked before anything changes."""
        self.marked_cleared = []
        if not follow_markers:
            return self._clear_dag(dag, run_id, task_regex, map_index, only_failed, downstream, dry_run)
        found = self._clear_dag(dag, run_id, task_regex, map_index, only_failed, downstream, True)
        steps = external_markers.plan(self, dag, found, only_failed=only_failed)
        if dry_run:
            self.marked_cleared = [
                (step.dag_id, *key)
                for step in steps
                for key in external_markers.dry_run(self, step, only_failed=only_failed)
            ]
            return found
        cleared = self._clear_dag(dag, run_id, task_regex, map_index, only_failed, downstream, False)
        self.marked_cleared = external_markers.carry_out(self, steps, only_failed=only_failed)
        return cleared

    def _clear_dag(
        self,
        dag: SerializedDAG,
        run_id: str | None,
        task_regex: str | None,
        map_index: int | Collection[int] | None,
        only_failed: bool,
        downstream: bool,
        dry_run: bool,
    ) -> list[tuple[str, str, int]]:
        pattern = re.compile(task_regex) if task_regex else None
        indexes = None if map_index is None else {map_index} if isinstance(map_index, int) else set(map_index)
        cleared: list[tuple[str, str, int]] = []
        with session_scope(self.engine) as session:
            runs = [r for r in q.list_dag_runs(session, dag.dag_id) if run_id is None or r.run_id == run_id]
            session.expunge_all()
        for run in runs:
            if run.state == "running":
                if run_id is not None:
                    raise TradewindError(f"Run {run.run_id} of {dag.dag_id} is running: clear it once it has finished")
                continue
            version = (self.load_version(dag.dag_id, run.dag_hash) if run.dag_hash else None) or dag
            selection = _clear_selection(version, pattern, downstream)
            records = self.load_records(dag.dag_id, run.run_id)
            hits: dict[str, set[int]] = {}
            for record in records:
                if record.task_id not in selection or record.state is None:
                    continue
                is_root = selection[record.task_id]
                if is_root and only_failed and record.state not in (S.FAILED, S.UPSTREAM_FAILED):
                    continue
                if is_root and indexes is not None and record.map_index not in indexes:
                    continue
                hits.setdefault(record.task_id, set()).add(record.map_index)
            if not hits:
                continue
            cleared.extend((run.run_id, t, i) for t, indexes in hits.items() for i in sorted(indexes))
            if dry_run:
                continue
            state = RunState.restore(version, context_from_row(run, version), records)
            state.clear_instances(hits)
            with session_scope(self.engine) as session:
                q.reset_task_instances(session, dag.dag_id, run.run_id, [(t, i) for t, s in hits.items() for i in s])
                self._write(session, dag.dag_id, run.run_id, state.drain_changes(), set())
                q.update_dag_run(session, dag.dag_id, run.run_id, state="queued", end_date=None)
        return cleared


def _clear_selection(dag: SerializedDAG, pattern: re.Pattern[str] | None, downstream: bool) -> dict[str, bool]:
    """task_id -> whether the task matched itself (True) or is cleared as a downstream of one
    (False): only matched tasks are filtered by --only-failed and --map-index."""
    matched = {t for t in dag.task_dict if pattern is None or pattern.search(t)}
    selected = dict.fromkeys(matched, True)
    if downstream:
        pending = list(matched)
        while pending:
            for down in dag.task_dict[pending.pop()].downstream_task_ids:
                if down not in selected:
                    selected[down] = False
                    pending.append(down)
    return selected
