"""What a scheduler that dies at the wrong moment leaves behind, and what the next one makes of
it (the way ``test_recovery.py`` does it: the store and the logs as the dead one left them, then
a fresh scheduler on them).

- A run ended and its DAG callback was never called: the request is stored with the run's end
  (``dag_run.callback_request``), so the next scheduler calls it, once.
- A ``TriggerDagRunOperator`` try ended and the scheduler created the run it asked for, then died
  before recording the task's success: the next scheduler applies the try's outcome from its log
  again, finds the run it created for that very try (``dag_run.triggered_by``) and neither fails
  the task nor creates the run twice."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from tests.scheduler.test_dag_callbacks import SUCCESS
from tests.scheduler.test_scenarios_both_drivers import write_scenario
from tests.scheduler.test_trigger_dagrun import TARGET, Home, at, controller

from tradewind.definitions import secrets
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import DagRunState
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.executors.inline import InlineExecutor
from tradewind.executors.local import LocalExecutor, task_log_path
from tradewind.processor import DagProcessor
from tradewind.runtime.durable import result_line
from tradewind.runtime.work import TaskResult, WorkItem
from tradewind.scheduler.loop import Scheduler
from tradewind.scheduler.persistence import StoreGateway, context_from_row
from tradewind.scheduler.run_state import InstanceRecord
from tradewind.scheduler.trigger_requests import carry_out
from tradewind.store import queries as q
from tradewind.store.engine import make_engine, migrate, session_scope
from tradewind.store.secrets import StoreSecrets

# -- DAG callbacks


def callback_request(gateway: StoreGateway, dag_id: str) -> list[Any]:
    with session_scope(gateway.engine) as session:
        return [r.callback_request for r in q.list_dag_runs(session, dag_id)]


def stored_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[StoreGateway, DagProcessor]:
    """The SUCCESS scenario's DAG file, parsed into a fresh store by the DAG processor."""
    dags = write_scenario(tmp_path, SUCCESS, monkeypatch)
    engine = make_engine()
    migrate(engine)
    processor = DagProcessor(dags, engine)
    processor.run_once()
    return StoreGateway(engine), processor


@pytest.mark.slow
def test_a_dag_callback_owed_by_a_run_that_ended_under_a_dead_scheduler_is_called_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway, processor = stored_scenario(tmp_path, monkeypatch)
    dag = gateway.get_dag(SUCCESS.name)
    context = gateway.create_manual_run(dag, None, {})
    gateway.mark_runs_running([(run, dag.version) for run in gateway.runs_to_start()])
    # what the dead scheduler wrote last: both tasks succeeded, and the run's end with the
    # callback it owes, in one transaction (the callback itself never ran)
    gateway.save_records(
        dag.dag_id,
        context.run_id,
        [
            InstanceRecord(t, state=S.SUCCESS, try_number=1, started_at=at(1), ended_at=at(i))
            for i, t in ((1, "first"), (2, "last"))
        ],
        set(),
    )
    request = {"success": True, "reason": "success", "task_id": "last", "map_index": -1}
    gateway.finish_runs([(dag.dag_id, context.run_id, DagRunState.SUCCESS)], {(dag.dag_id, context.run_id): request})
    assert callback_request(gateway, dag.dag_id) == [request]
    notes = tmp_path / "scratch" / "callbacks.txt"
    assert not notes.exists()

    for _ in range(2):  # a scheduler starts, calls the callback; the next one owes nothing
        log = io.StringIO()
        Scheduler(gateway, LocalExecutor(parallelism=1), processor=processor, log=log).run(until_idle=True)
    assert notes.read_text().splitlines() == ["on_success success last True"]
    assert callback_request(gateway, dag.dag_id) == [None]
    assert [r.state for r in gateway.list_runs(dag.dag_id)] == ["success"]  # the run is left as it was
    gateway.engine.dispose()


@pytest.mark.slow
def test_the_callback_request_is_written_with_the_run_end_and_cleared_once_called(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway, processor = stored_scenario(tmp_path, monkeypatch)
    gateway.create_manual_run(gateway.get_dag(SUCCESS.name), None, {})
    log = io.StringIO()
    Scheduler(gateway, LocalExecutor(parallelism=1), processor=processor, log=log).run(until_idle=True)
    assert (tmp_path / "scratch" / "callbacks.txt").read_text().splitlines() == ["on_success success last True"]
    assert callback_request(gateway, SUCCESS.name) == [None]
    gateway.engine.dispose()


# -- TriggerDagRunOperator


def test_a_run_created_for_a_try_whose_success_was_not_recorded_is_found_not_duplicated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    home = Home(tmp_path)
    home.store("target.py", TARGET)
    home.store("controller.py", controller(trigger_run_id="triggered", conf={"size": 2}))
    gateway = home.gateway
    dag = gateway.get_dag("controller")
    context = gateway.create_manual_run(dag, None, {}, run_id="go")
    gateway.mark_runs_running([(run, dag.version) for run in gateway.runs_to_start()])
    gateway.save_records("controller", "go", [InstanceRecord("fire", state=S.RUNNING, try_number=1)], set())
    # `fire` ended: its outcome (and the run it asks for) is the last line of its log ...
    key = TaskInstanceKey("controller", "go", "fire", -1, 1)
    request = {"dag_id": "target", "run_id": "triggered", "conf": {"size": 2}, "logical_date": None}
    fired = TaskResult(key, S.SUCCESS, at(1), at(1), xcoms={"trigger_run_id": "triggered"}, trigger_request=request)
    log = task_log_path(WorkItem(key=key, context=context))
    log.parent.mkdir(parents=True)
    log.write_text("[...] {fire} INFO - Triggering DAG target\n" + result_line(fired))
    # ... the scheduler created that run (its own step), then died before recording fire's success
    applied, _ = carry_out(gateway, fired)
    assert applied.state is S.SUCCESS and home.runs("target") == {"triggered": "queued"}
    assert home.instances("controller", "go")["fire"] == ("running", 1)

    said = io.StringIO()

    def find_task(item: WorkItem) -> Any:
        return home.tasks[(item.key.dag_id, item.key.task_id)]

    with secrets.installed_for(StoreSecrets(home.engine.url.render_as_string(hide_password=False))):
        scheduler = Scheduler(gateway, InlineExecutor(find_task, said), log=said, log_path=task_log_path)
        scheduler.run(until_idle=True)

    assert home.instances("controller", "go") == {"fire": ("success", 1), "after": ("success", 1)}, said.getvalue()
    assert home.runs("target") == {"triggered": "success"}  # one run, run once
    assert home.xcoms("target", "triggered")[("show", "return_value")] == {"size": 2, "conf": {"size": 2}}
    assert "triggered run 'triggered' of DAG 'target' (before the scheduler restarted)" in said.getvalue()
    assert [r.state for r in gateway.list_runs("controller")] == ["success"]


def test_another_try_asking_for_the_same_run_id_still_fails_naming_the_fix(tmp_path: Path) -> None:
    home = Home(tmp_path)
    home.store("target.py", TARGET)
    request = {"dag_id": "target", "run_id": "taken", "conf": {}, "logical_date": None}
    first = TaskResult(
        TaskInstanceKey("controller", "go", "fire", -1, 1), S.SUCCESS, at(1), at(1), trigger_request=request
    )
    assert carry_out(home.gateway, first)[0].state is S.SUCCESS
    assert carry_out(home.gateway, first)[0].state is S.SUCCESS  # the same try, again: its own run
    again = TaskResult(
        TaskInstanceKey("controller", "go", "fire", -1, 2), S.SUCCESS, at(2), at(2), trigger_request=request
    )
    failed, _ = carry_out(home.gateway, again)
    assert failed.state is S.FAILED and failed.error is not None
    assert "reset_dag_run=True or skip_when_already_exists=True" in failed.error.message
    assert home.runs("target") == {"taken": "queued"}
    with session_scope(home.engine) as session:
        run = q.get_dag_run(session, "target", "taken")
        assert run is not None and run.triggered_by == ["controller", "go", "fire", -1, 1]
        assert context_from_row(run, home.gateway.get_dag("target")).run_id == "taken"
