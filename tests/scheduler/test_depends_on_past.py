"""``depends_on_past`` / ``wait_for_downstream`` / ``wait_for_past_depends_before_skipping``, as
Airflow 3.3 does them (``PrevDagrunDep``): the rule as table tests, then the one state machine
through ``dags test`` (previous run read from the store) and the scheduler (previous run live
or stored) on a real SQLite store."""

from __future__ import annotations

import io
import sys
import textwrap
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradewind.definitions.states import DagRunState
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.executors.local import LocalExecutor, task_log_path
from tradewind.loader import load_dags
from tradewind.processor import DagProcessor
from tradewind.scheduler import dag_test
from tradewind.scheduler.loop import Scheduler
from tradewind.scheduler.past import StoredRun, past_depends_met, pick_previous
from tradewind.scheduler.persistence import StoreGateway
from tradewind.scheduler.run_state import RunState
from tradewind.store.engine import make_engine, migrate

D1, D2, D3 = (datetime(2025, 1, day, tzinfo=UTC) for day in (1, 2, 3))


# -- the rule -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("own", "downstream", "wait_for_downstream", "ignore_first", "met"),
    [
        ({S.SUCCESS: 1}, [], False, True, True),
        ({S.SKIPPED: 1}, [], False, True, True),
        ({S.SUCCESS: 2, S.SKIPPED: 1}, [], False, True, True),  # every map index counts
        ({S.SUCCESS: 2, S.FAILED: 1}, [], False, True, False),
        ({S.UPSTREAM_FAILED: 1}, [], False, True, False),
        ({S.RUNNING: 1}, [], False, True, False),  # not finished yet: wait
        ({None: 1}, [], False, True, False),
        ({S.REMOVED: 1, S.SUCCESS: 1}, [], False, True, False),  # Airflow counts removed as unsuccessful
        ({S.SUCCESS: 1, S.FAILED: 0}, [], False, True, True),  # zero counts do not count
        (None, [], False, True, True),  # the previous run has no instance of it: ignore_first
        (None, [], False, False, False),
        ({S.SUCCESS: 1}, [{S.RUNNING: 1}], False, True, True),  # downstream only with wait_for_downstream
        ({S.SUCCESS: 1}, [{S.RUNNING: 1}], True, True, False),
        ({S.SUCCESS: 1}, [{S.SUCCESS: 1}, {S.SKIPPED: 2}], True, True, True),
        ({S.SUCCESS: 1}, [{S.SUCCESS: 1}, {S.FAILED: 1}], True, True, False),
    ],
)
def test_past_depends_met(own, downstream, wait_for_downstream, ignore_first, met) -> None:
    assert past_depends_met(own, downstream, wait_for_downstream=wait_for_downstream, ignore_first=ignore_first) is met


RUNS = [
    ("scheduled__1", D1, "scheduled"),
    ("manual__2", D2, "manual"),
    ("scheduled__3", D3, "scheduled"),
    ("asset_triggered", None, "manual"),
]


@pytest.mark.parametrize(
    ("logical_date", "catchup", "previous"),
    [
        (D3, False, "manual__2"),  # the latest logical date before, of any kind
        (D3, True, "scheduled__1"),  # with catchup, manual runs do not count (Airflow's rule)
        (D2, False, "scheduled__1"),
        (D1, False, None),  # the first run
        (None, False, None),  # a run without a logical date has no previous run
        (datetime(2025, 2, 1, tzinfo=UTC), False, "scheduled__3"),
    ],
)
def test_pick_previous(logical_date, catchup, previous) -> None:
    assert pick_previous(RUNS, logical_date, catchup=catchup) == previous


# -- the state machine, in memory ----------------------------------------------------------------
def write_dag(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(body))
    return folder


PAST_DAG = """
    import os
    import time
    from datetime import datetime
    from pathlib import Path

    from tradewind import dag, task

    SCRATCH = Path(os.environ["TW_PAST_DIR"])

    @dag(dag_id="{name}", start_date=datetime(2025, 1, 1), schedule=None, max_active_runs=3)
    def build():
        @task(depends_on_past=True, wait_for_downstream={wait})
        def first(**context):
            day = context["logical_date"].day
            time.sleep(0.3)
            (SCRATCH / f"first-{{day}}").write_text(str(time.time()))
            if (SCRATCH / f"fail-{{day}}").exists():
                raise ValueError("told to fail")

        @task
        def second(**context):
            time.sleep(0.6)
            (SCRATCH / f"second-{{context['logical_date'].day}}").write_text(str(time.time()))

        @task
        def free():
            return "free"

        first() >> second()
        free()

    build()
"""


def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, wait: bool = False) -> Path:
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    monkeypatch.setenv("TW_PAST_DIR", str(scratch))
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    return write_dag(tmp_path / "dags", name, PAST_DAG.format(name=name, wait=wait))


def states_of(state: RunState) -> dict[str, str | None]:
    return {r.task_id: str(r.state) if r.state else None for r in state.records()}


def test_dags_test_without_a_previous_run_runs_everything(tmp_path, monkeypatch) -> None:
    dags = load(tmp_path, monkeypatch, "past_first")
    dag = load_dags(dags).get_dag("past_first")

    state = dag_test.test_dag(dag, io.StringIO(), logical_date=D1)

    assert states_of(state) == {"first": "success", "second": "success", "free": "success"}


def test_a_failed_previous_instance_holds_the_task_and_not_the_others(tmp_path, monkeypatch) -> None:
    dags = load(tmp_path, monkeypatch, "past_held")
    dag = load_dags(dags).get_dag("past_held")
    previous = StoredRun("scheduled__d1", {"first": Counter({S.FAILED: 1}), "second": Counter({S.UPSTREAM_FAILED: 1})})
    state = RunState(dag, dag_test.make_run_context(dag, D2), previous=previous)
    log = io.StringIO()

    dag_test.drive(state, dag_test.InlineExecutor(lambda item: dag.task_dict[item.key.task_id], log), log)

    assert states_of(state) == {"first": None, "second": None, "free": "success"}
    assert state.dag_run_state() is DagRunState.RUNNING  # waits, is not failed (as in Airflow)
    assert not state.deadlocked()
    assert (
        "Task 'first' cannot start (depends_on_past): its instance in the previous run 'scheduled__d1' has 1 failed"
    ) in log.getvalue()
    # the previous run's instance is cleared and succeeds: the task is looked at again and runs
    previous._counts["first"] = Counter({S.SUCCESS: 1})
    assert state.past_changed("first")
    dag_test.drive(state, dag_test.InlineExecutor(lambda item: dag.task_dict[item.key.task_id], log), log)
    assert states_of(state) == {"first": "success", "second": "success", "free": "success"}


def test_wait_for_downstream_also_needs_the_previous_downstream(tmp_path, monkeypatch) -> None:
    dags = load(tmp_path, monkeypatch, "past_downstream", wait=True)
    dag = load_dags(dags).get_dag("past_downstream")
    previous = StoredRun("r1", {"first": Counter({S.SUCCESS: 1}), "second": Counter({S.RUNNING: 1})})
    state = RunState(dag, dag_test.make_run_context(dag, D2), previous=previous)

    ready = {r.task_id for r in state.schedule()}

    assert ready == {"free"}
    assert "wait_for_downstream" in state.waiting_on_past["first"]
    assert not state.past_changed("free")  # a task it does not wait for changes nothing
    previous._counts["second"] = Counter({S.SKIPPED: 1})
    assert state.past_changed("second")
    assert {r.task_id for r in state.schedule()} == {"first"}


def test_a_skip_waits_for_the_past_only_when_asked(tmp_path, monkeypatch) -> None:
    """A skip decided by the trigger rule (an upstream skipped) waits for the previous run only with
    wait_for_past_depends_before_skipping (a branch's skip is set at once, in Airflow too)."""
    body = """
        from datetime import datetime
        from tradewind import dag, task
        from tradewind.errors import AirflowSkipException

        @dag(dag_id="{name}", start_date=datetime(2025, 1, 1), schedule=None)
        def build():
            @task
            def skips():
                raise AirflowSkipException("nothing to do")

            @task(depends_on_past=True, wait_for_past_depends_before_skipping={wait})
            def chosen_never():
                pass

            skips() >> chosen_never()

        build()
    """
    monkeypatch.setattr(sys, "path", list(sys.path))
    failed = StoredRun("r1", {"chosen_never": Counter({S.FAILED: 1})})
    outcome = {}
    for wait in (False, True):
        name = f"skip_wait_{wait}".lower()
        dags = write_dag(tmp_path / name, name, body.format(name=name, wait=wait))
        dag = load_dags(dags).get_dag(name)
        state = RunState(dag, dag_test.make_run_context(dag, D2), previous=failed)
        log = io.StringIO()
        dag_test.drive(state, dag_test.InlineExecutor(lambda item, d=dag: d.task_dict[item.key.task_id], log), log)
        outcome[wait] = states_of(state)["chosen_never"]
    assert outcome == {False: "skipped", True: None}


# -- through the scheduler and dags test on a real store -----------------------------------------
def run_scheduler(dags: Path, dag_id: str, dates: list[datetime], seconds: float) -> tuple[StoreGateway, dict]:
    engine = make_engine()
    migrate(engine)
    gateway = StoreGateway(engine)
    processor = DagProcessor(dags, engine)
    processor.run_once()
    dag = gateway.get_dag(dag_id)
    runs = [gateway.create_manual_run(dag, moment, {}).run_id for moment in dates]
    scheduler = Scheduler(
        gateway, LocalExecutor(parallelism=3), processor=processor, log=io.StringIO(), log_path=task_log_path
    )
    deadline = time.monotonic() + seconds
    scheduler.run(until_idle=True, should_stop=lambda: time.monotonic() > deadline)
    found = {
        run_id: {r.task_id: (str(r.state) if r.state else None, r) for r in gateway.load_records(dag_id, run_id)}
        for run_id in runs
    }
    return gateway, found


@pytest.mark.slow
def test_scheduler_runs_wait_for_the_previous_run_live(tmp_path, monkeypatch) -> None:
    """Three runs at once (max_active_runs=3): each run's ``first`` starts only after the previous
    run's ``first`` ended, and with wait_for_downstream only after its ``second`` ended too."""
    dags = load(tmp_path, monkeypatch, "past_live", wait=True)
    scratch = tmp_path / "scratch"

    gateway, runs = run_scheduler(dags, "past_live", [D1, D2, D3], seconds=20)

    assert [{t: s for t, (s, _) in tasks.items()} for tasks in runs.values()] == [
        {"first": "success", "second": "success", "free": "success"}
    ] * 3
    r1, r2, r3 = runs.values()
    assert r1["second"][1].ended_at <= r2["first"][1].started_at
    assert r2["second"][1].ended_at <= r3["first"][1].started_at
    assert float((scratch / "second-1").read_text()) <= float((scratch / "first-2").read_text())
    gateway.engine.dispose()


@pytest.mark.slow
def test_a_failed_previous_run_holds_the_next_under_the_scheduler_and_dags_test(tmp_path, monkeypatch) -> None:
    dags = load(tmp_path, monkeypatch, "past_failed")
    (tmp_path / "scratch" / "fail-1").write_text("")

    gateway, runs = run_scheduler(dags, "past_failed", [D1, D2], seconds=5)

    r1, r2 = ({t: s for t, (s, _) in tasks.items()} for tasks in runs.values())
    assert r1 == {"first": "failed", "second": "upstream_failed", "free": "success"}
    # waiting, not failed (an instance never decided has no row written yet)
    assert {task: r2.get(task) for task in ("first", "second", "free")} == {
        "first": None,
        "second": None,
        "free": "success",
    }
    assert [run.state for run in gateway.list_runs("past_failed")] == ["running", "failed"]
    gateway.engine.dispose()
    # dags test reads the previous run from the store, as Airflow's does from its database
    dag = load_dags(dags).get_dag("past_failed")
    log = io.StringIO()
    state = dag_test.test_dag(dag, log, logical_date=D3)
    assert states_of(state) == {"first": None, "second": None, "free": "success"}
    assert "its instance in the previous run 'manual__2025-01-02T00:00:00+00:00' has 1 not started" in log.getvalue()


def test_a_mapped_task_waits_for_every_index_of_the_previous_run(tmp_path, monkeypatch) -> None:
    """Airflow counts the previous run's instances of the task, all map indexes: one failed
    index holds every index of the next run."""
    from tradewind import DAG, task

    with DAG("mapped_past", start_date=D1, schedule=None) as dag:

        @task(depends_on_past=True)
        def work(x):
            return x

        work.expand(x=[1, 2, 3])
    held = StoredRun("r1", {"work": Counter({S.SUCCESS: 2, S.FAILED: 1})})
    state = RunState(dag, dag_test.make_run_context(dag, D2), previous=held)

    assert state.schedule() == []
    assert "has 1 failed" in state.waiting_on_past["work"]
    held._counts["work"] = Counter({S.SUCCESS: 2, S.SKIPPED: 1})
    state.past_changed("work")
    assert sorted(r.map_index for r in state.schedule()) == [0, 1, 2]


@pytest.mark.slow
def test_the_first_run_of_a_backfill_does_not_wait_for_the_run_before_it(tmp_path, monkeypatch) -> None:
    dags = load(tmp_path, monkeypatch, "past_backfill")
    (tmp_path / "scratch" / "fail-1").write_text("")
    gateway, _ = run_scheduler(dags, "past_backfill", [D1], seconds=5)  # a failed run before
    dag = gateway.get_dag("past_backfill")
    run_ids = {gateway.create_manual_run(dag, moment, {}).run_id for moment in (D2, D3)}
    scheduler = Scheduler(
        gateway, LocalExecutor(parallelism=2), log=io.StringIO(), log_path=task_log_path, only_run_ids=run_ids
    )
    deadline = time.monotonic() + 15
    scheduler.run(until_idle=True, should_stop=lambda: time.monotonic() > deadline)

    for run_id in sorted(run_ids):
        assert {r.task_id: str(r.state) for r in gateway.load_records("past_backfill", run_id)} == {
            "first": "success",
            "second": "success",
            "free": "success",
        }
    gateway.engine.dispose()
