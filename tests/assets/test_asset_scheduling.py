"""Data-aware scheduling under the in-process scheduler, on a real SQLite store: a producer's
success creates exactly one run of each consumer whose condition holds (AND waits for all, OR
for one, an alias for the assets emitted through it), a paused consumer gets none, and a
scheduler that stops between the task's success and the consumer's run loses and duplicates
nothing."""

from __future__ import annotations

import io

from asset_home import CONSUMERS, Home

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.executors.local import task_log_path
from tradewind.runtime.durable import result_line
from tradewind.runtime.run_task import run_task
from tradewind.runtime.work import WorkItem
from tradewind.scheduler.persistence import context_from_row
from tradewind.scheduler.run_state import InstanceRecord
from tradewind.store import queries as q
from tradewind.store.engine import session_scope

ORDERS = ("s3://shop/orders", "s3://shop/orders")
REFUNDS = ("refunds", "s3://shop/refunds")


def only_run(home: Home, dag_id: str) -> str:
    runs = home.runs(dag_id)
    assert len(runs) == 1, runs
    (run_id, (run_type, state)), *_ = runs.items()
    assert (run_type, state) == ("asset_triggered", "success")
    assert run_id.startswith("asset_triggered__")
    return run_id


def test_a_producer_success_creates_one_run_of_each_consumer_whose_condition_holds(home: Home) -> None:
    home.trigger("make_orders")
    said = home.run_scheduler()
    assert home.events() == [("s3://shop/orders", {"rows": 12}, "make_orders", "go")]
    run_id = only_run(home, "either")
    assert home.returned("either", run_id) == {
        "run_type": "asset_triggered",
        "logical_date": None,  # as Airflow 3: an asset-triggered run has no logical date
        "seen": {"s3://shop/orders": [({"rows": 12}, "make_orders", "write_orders")]},
    }
    only_run(home, "only_orders")
    assert home.runs("both") == {}  # waits for refunds too
    assert home.queue() == {"both": {ORDERS}}
    assert f"created run {run_id} of either (asset-triggered)" in said


def test_an_and_condition_waits_for_every_asset_then_consumes_both(home: Home) -> None:
    home.trigger("make_orders")
    home.run_scheduler()
    home.trigger("make_refunds")
    home.run_scheduler()
    run_id = only_run(home, "both")
    seen = home.returned("both", run_id)["seen"]
    assert seen == {
        "s3://shop/orders": [({"rows": 12}, "make_orders", "write_orders")],
        "s3://shop/refunds": [({"rows": 3}, "make_refunds", "write_refunds")],  # yielded Metadata
    }
    assert home.queue() == {}
    # `either` ran once per producer run; `only_orders` once
    assert len(home.runs("either")) == 2 and len(home.runs("only_orders")) == 1


def test_a_failed_producer_emits_nothing(home: Home) -> None:
    home.trigger("fails")
    home.run_scheduler()
    assert home.runs("fails") == {"go": ("manual", "failed")}
    assert home.events() == [] and home.queue() == {}
    assert home.runs("either") == {}


def test_an_alias_triggers_its_consumer_with_the_asset_added_to_it(home: Home) -> None:
    home.trigger("make_through_alias")
    home.run_scheduler()
    assert home.events() == [("s3://shop/daily/2026-11-30", {"day": 30}, "make_through_alias", "go")]
    run_id = only_run(home, "through_alias")
    assert home.returned("through_alias", run_id)["seen"] == {
        "s3://shop/daily/2026-11-30": [({"day": 30}, "make_through_alias", "attach")],
        "alias daily": [({"day": 30}, "make_through_alias", "attach")],
    }
    assert home.runs("either") == {}


def test_a_paused_consumer_is_not_queued_and_does_not_run(home: Home) -> None:
    home.store("consumers.py", CONSUMERS, paused=("either", "only_orders"))
    home.trigger("make_orders")
    home.run_scheduler()
    assert home.runs("either") == {} and home.runs("only_orders") == {}
    assert home.queue() == {"both": {ORDERS}}  # as Airflow: only unpaused consumers are queued
    with session_scope(home.engine) as session:
        q.set_paused(session, "either", False)
    home.run_scheduler()
    assert home.runs("either") == {}  # the event came while it was paused


def test_two_events_before_the_consumer_runs_make_one_run_that_consumes_both(home: Home) -> None:
    home.trigger("make_orders", "first")
    home.trigger("make_orders", "second")
    home.run_scheduler(only_run_ids={"first", "second"})  # runs the producers only, creates no run
    assert home.runs("either") == {}
    assert home.queue() == {"both": {ORDERS}, "either": {ORDERS}, "only_orders": {ORDERS}}
    home.run_scheduler()
    run_id = only_run(home, "only_orders")
    sources = [e[2] for e in home.returned("only_orders", run_id)["seen"]["s3://shop/orders"]]
    assert sources == ["write_orders", "write_orders"]


def test_a_restart_after_the_success_was_written_creates_the_run_once(home: Home) -> None:
    # the dead scheduler wrote the producer's success, its event and the queue (one
    # transaction), and stopped before creating the consumers' runs
    home.trigger("make_orders")
    home.run_scheduler(only_run_ids={"go"})
    assert home.queue() == {"both": {ORDERS}, "either": {ORDERS}, "only_orders": {ORDERS}}
    home.run_scheduler()
    run_id = only_run(home, "either")
    home.run_scheduler()  # and again: nothing is queued, nothing is created
    assert list(home.runs("either")) == [run_id]
    assert len(home.events()) == 1


def test_a_restart_before_the_success_was_written_takes_the_events_from_the_task_log(home: Home) -> None:
    # the dead scheduler sent write_orders, which finished (its outcome, events included, is the
    # last line of its log), and stopped before writing anything
    home.trigger("make_orders")
    dag = home.gateway.get_dag("make_orders")
    home.gateway.mark_runs_running([(run, dag.version) for run in home.gateway.runs_to_start()])
    key = TaskInstanceKey("make_orders", "go", "write_orders", -1, 1)
    home.gateway.save_records(
        "make_orders", "go", [InstanceRecord("write_orders", state=S.RUNNING, try_number=1)], set()
    )
    item = WorkItem(key=key, context=context_from_row(home.gateway.list_runs("make_orders")[0], dag))
    path = task_log_path(item)
    path.parent.mkdir(parents=True)
    result = run_task(home.tasks[("make_orders", "write_orders")], item, io.StringIO())
    assert [e["extra"] for e in result.asset_events] == [{"rows": 12}]
    path.write_text(result_line(result))

    said = home.run_scheduler(log_path=task_log_path)
    assert "write_orders of go: finished before the restart (success)" in said
    assert home.events() == [("s3://shop/orders", {"rows": 12}, "make_orders", "go")]
    only_run(home, "either")
    only_run(home, "only_orders")


def test_an_asset_or_time_schedule_also_runs_on_its_assets(home: Home) -> None:
    home.store(
        "both_ways.py",
        """
        from airflow.sdk import DAG, Asset, AssetOrTimeSchedule, CronTriggerTimetable, task

        orders = Asset("s3://shop/orders")
        schedule = AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 1 * * 3", timezone="UTC"), assets=[orders])
        with DAG("both_ways", schedule=schedule, catchup=False):
            @task
            def read(*, triggering_dataset_events=None):  # Airflow 2's name
                return [e.source_dag_id for e in triggering_dataset_events[orders]]

            read()
        """,
    )
    home.trigger("make_orders")
    home.run_scheduler()
    [(run_id, (run_type, state))] = home.runs("both_ways").items()
    assert (run_type, state) == ("asset_triggered", "success")
    assert home.returned("both_ways", run_id) == ["make_orders"]
