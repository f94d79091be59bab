"""Running one DAG run in this process, without a store: ``tradewind dags test`` and ``tasks test``."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from tradewind.definitions import secrets
from tradewind.definitions.dag import DAG
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.mapping import MappedOperator
from tradewind.definitions.params import ParamValidationError, resolve_params
from tradewind.definitions.serialized import SerializedDAG
from tradewind.definitions.states import TaskInstanceState
from tradewind.definitions.timetables import DataInterval
from tradewind.errors import TradewindError
from tradewind.executors.base import Executor
from tradewind.executors.inline import InlineExecutor
from tradewind.runtime.callbacks import LogWriter, run_dag_callback
from tradewind.runtime.inputs import InputsSource
from tradewind.runtime.run_task import run_task
from tradewind.runtime.work import RunContext, TaskResult, WorkItem
from tradewind.scheduler.admission import ActiveRun, Admission
from tradewind.scheduler.assets import record_from_dag_test
from tradewind.scheduler.past import StoredRun, previous_in_store
from tradewind.scheduler.run_state import RunState
from tradewind.scheduler.trigger_requests import not_in_dag_test
from tradewind.store.models import DEFAULT_POOL, DEFAULT_POOL_SLOTS
from tradewind.store.secrets import existing_store_secrets


def run_context_for(
    dag: DAG | SerializedDAG,
    logical_date: datetime | None,
    interval: DataInterval | None,
    *,
    run_type: str = "manual",
    run_id: str | None = None,
    conf: dict[str, Any] | None = None,
    test_mode: bool = False,
    run_after: datetime | None = None,
) -> RunContext:
    """The context of one run of ``dag``; the run's conf overrides the DAG's params. A run
    without a logical date (an Airflow 3 trigger) has no interval and is named after ``run_after``."""
    conf = dict(conf or {})
    if not run_id:
        named_after = logical_date if logical_date is not None else run_after
        if named_after is None:
            raise TradewindError(f"DAG '{dag.dag_id}': a run needs a logical date, a run_after or a run_id")
        run_id = f"{run_type}__{named_after.isoformat()}"
    return RunContext(
        dag_id=dag.dag_id,
        run_id=run_id,
        logical_date=logical_date,
        data_interval_start=interval.start if interval is not None else None,
        data_interval_end=interval.end if interval is not None else None,
        run_type=run_type,
        conf=conf,
        params=resolve_params(dag.params, conf),
        test_mode=test_mode,
        run_after=run_after,
    )


def make_run_context(
    dag: DAG, logical_date: datetime | None = None, conf: dict[str, Any] | None = None, run_type: str = "manual"
) -> RunContext:
    """The context of a manual test run at ``logical_date`` (now by default), with its data interval."""
    moment = logical_date or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    interval = dag.timetable.infer_manual_data_interval(run_after=moment)
    # Airflow 3 gives test_mode as false under `dags test` too (its example
    # example_passing_params_via_test_command relies on it)
    try:
        return run_context_for(dag, moment, interval, run_type=run_type, conf=conf, run_after=moment)
    except ParamValidationError as exc:  # as Airflow's `dags test`: no run, and the param named
        raise ParamValidationError(f"DAG '{dag.dag_id}': {exc}") from None


def pools_for_test(dag: SerializedDAG) -> dict[str, int]:
    """Slot pools for a run outside the scheduler: ``default_pool``, and the pools of the store
    when a task names another one (read only then, and only from a store that exists)."""
    sizes = {DEFAULT_POOL: DEFAULT_POOL_SLOTS}
    if all(task.pool == DEFAULT_POOL for task in dag.tasks):
        return sizes
    from tradewind.store.engine import database_url, make_engine, session_scope
    from tradewind.store.queries import get_pools

    url = database_url()
    if url.startswith("sqlite") and not Path(url.split("///", 1)[-1]).expanduser().exists():
        return sizes
    try:
        with session_scope(make_engine(url)) as session:
            sizes.update({pool.name: pool.slots for pool in get_pools(session)})
    except Exception:  # no store yet, or not reachable: only the default pool exists
        pass
    return sizes


def previous_for_test(dag: DAG, context: RunContext) -> StoredRun | None:
    """depends_on_past under ``dags test``: the previous run in the store, as Airflow's
    ``dags test`` reads its metadata database (only from a store that exists; a test run itself
    is not stored, so it is never anyone's previous run)."""
    if not any(getattr(t, "depends_on_past", False) or getattr(t, "wait_for_downstream", False) for t in dag.tasks):
        return None
    from tradewind.store.engine import database_url, make_engine

    url = database_url()
    if url.startswith("sqlite") and not Path(url.split("///", 1)[-1]).expanduser().exists():
        return None
    try:
        return previous_in_store(make_engine(url), dag.dag_id, context.logical_date, catchup=dag.catchup)
    except Exception:  # a store without tables yet: no previous run
        return None


def drive(
    state: RunState,
    executor: Executor,
    log: TextIO,
    *,
    no_retry_delay: bool = False,
    pool_sizes: dict[str, int] | None = None,
    asset_events: list[tuple[TaskInstanceKey, tuple[dict[str, Any], ...]]] | None = None,
) -> RunState:
    """Move ``state`` forward with ``executor`` until every instance is final, admitting work
    through the scheduler's own rules (pools, max_active_tasks, max_active_tis_per_dag)."""

    def flush_events() -> None:
        for message in state.events:
            log.write(f"[scheduler] {message}\n")
        state.events.clear()

    def running(dag_id: str, task_id: str) -> int:
        counts = state.counts.get(task_id)
        return counts[TaskInstanceState.QUEUED] + counts[TaskInstanceState.RUNNING] if counts else 0

    active = ActiveRun(state.dag, state)
    admission = Admission(pool_sizes if pool_sizes is not None else pools_for_test(state.dag))
    timeout = state.dag.dagrun_timeout
    deadline = datetime.now(UTC) + timeout if timeout else None
    executor.start()
    try:
        while True:
            if deadline is not None and state.active and datetime.now(UTC) >= deadline:
                log.write(f"[scheduler] Run has timed out (dagrun_timeout {timeout}): unfinished tasks skipped\n")
                state.time_out()
            active.waiting.extend(state.schedule())
            ready = admission.admit(active, running)
            flush_events()
            if ready:
                items = state.work_items(ready)
                state.mark_queued(ready)
                active.in_flight += len(ready)
                executor.submit(items)
            results = executor.next_results(timeout=0.5) if active.in_flight else []
            active.in_flight -= len(results)
            state.mark_running(executor.take_started())  # before the results, as the scheduler does
            for result in results:
                admission.release(state.dag.task_dict[result.key.task_id], state.dag.dag_id)
                if (untriggered := not_in_dag_test(result)) is not None:
                    log.write(f"[scheduler] {untriggered}\n")
                state.apply_result(result, no_retry_delay=no_retry_delay)
                if asset_events is not None and result.asset_events and result.state is TaskInstanceState.SUCCESS:
                    asset_events.append((result.key, result.asset_events))  # recorded at the end (adr/0012)
            flush_events()
            if ready or results:
                continue
            if not state.active:
                return state
            retry_at = state.next_retry_at()
            if retry_at is not None:
                wake = min(retry_at, deadline) if deadline is not None else retry_at
                time.sleep(max(0.0, (wake - datetime.now(UTC)).total_seconds()))
                continue
            if state.waiting_on_past and not active.waiting and not active.in_flight:
                # Airflow's `dags test` waits here for ever; nothing in this process can change
                # the previous run, so say what is waited for and stop (the tasks stay undecided)
                for task_id, why in state.waiting_on_past.items():
                    log.write(
                        f"[scheduler] Task '{task_id}' cannot start (depends_on_past): {why}; clear or finish "
                        "that run first, or test an earlier logical date\n"
                    )
                return state
            if state.deadlocked() and not active.waiting:
                log.write("[scheduler] No task can make progress: marking the remaining tasks upstream_failed\n")
                state.fail_undecided()
                return state
    finally:
        executor.stop()


def test_dag(
    dag: DAG,
    log: TextIO,
    *,
    logical_date: datetime | None = None,
    conf: dict[str, object] | None = None,
    no_retry_delay: bool = False,
    max_map_length: int = 1024,
) -> RunState:
    """Run the whole DAG once, inline, printing task logs to ``log``."""
    context = make_run_context(dag, logical_date, conf)
    state = RunState(dag, context, max_map_length=max_map_length, previous=previous_for_test(dag, context))
    executor = InlineExecutor(lambda item: dag.task_dict[item.key.task_id], log)
    store = existing_store_secrets()
    emitted: list[tuple[TaskInstanceKey, tuple[dict[str, Any], ...]]] = []
    with secrets.installed_for(store):  # Variables and Connections of the store
        drive(state, executor, log, no_retry_delay=no_retry_delay, asset_events=emitted)
        record_from_dag_test(store.url if store is not None else None, emitted, log)
        success, reason, item = state.dag_callback()
        run_dag_callback(dag, success, reason, item, LogWriter(log, "dag callback"))
    return state


def data_producers(dag: DAG, task_id: str) -> set[str]:
    """Tasks whose outputs ``task_id`` consumes, directly or through other producers."""
    found: set[str] = set()
    pending = [task_id]
    while pending:
        task = dag.task_dict[pending.pop()]
        for arg in task.iter_input_xcom_args():
            for plain in arg.iter_plain():
                if plain.task_id not in found:
                    found.add(plain.task_id)
                    pending.append(plain.task_id)
    return found


def test_task(
    dag: DAG,
    task_id: str,
    log: TextIO,
    *,
    map_index: int = -1,
    logical_date: datetime | None = None,
    conf: dict[str, object] | None = None,
) -> TaskResult:
    """Run one task instance, ignoring trigger rules. Tasks whose outputs it consumes run first
    (quietly, in memory) so that its arguments and its expansion are real."""
    task = dag.get_task(task_id)
    context = make_run_context(dag, logical_date, conf)
    producers = data_producers(dag, task_id)
    state = RunState(dag, context, only=producers)
    if producers:
        quiet = io.StringIO()
        with secrets.installed_for(existing_store_secrets()):
            drive(state, InlineExecutor(lambda item: dag.task_dict[item.key.task_id], quiet), quiet)
        for record in state.records():
            if record.state is not TaskInstanceState.SUCCESS:
                log.write(f"[tasks test] upstream {record.task_id} ended {record.state}; its output is missing\n")
    inputs = state.inputs_for(state.dag.task_dict[task_id])
    if isinstance(task, MappedOperator):
        length = task.expand_input.total_length(InputsSource(inputs, task_id), task_id)
        if not 0 <= map_index < length:
            raise TradewindError(
                f"Task '{task_id}' is mapped over {length} item(s) in this run: "
                f"pass --map-index between 0 and {length - 1}"
            )
    elif map_index != -1:
        raise TradewindError(f"Task '{task_id}' is not mapped: leave out --map-index")
    key = TaskInstanceKey(dag.dag_id, context.run_id, task_id, map_index, 1)
    item = WorkItem(key=key, context=context, dag_file=dag.fileloc, inputs=inputs, max_tries=task.retries + 1)
    with secrets.installed_for(existing_store_secrets()):
        return run_task(task, item, log)
