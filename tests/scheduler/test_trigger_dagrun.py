"""TriggerDagRunOperator under the in-process scheduler (real store, tasks run inline): the
worker asks, the scheduler creates the run as `dags trigger` does, the triggered DAG runs, and a
task with wait_for_completion ends after it in the state its allowed/failed states say."""

from __future__ import annotations

import io
import textwrap
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.scheduler.scheduler_home import SchedulerHome

from tradewind.definitions.dag import DAG
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import TaskInstanceState
from tradewind.executors.local import LocalExecutor, task_log_path
from tradewind.processor import DagProcessor
from tradewind.runtime.durable import result_from_log, result_line
from tradewind.runtime.work import TaskResult
from tradewind.scheduler.loop import Scheduler
from tradewind.scheduler.persistence import StoreGateway
from tradewind.store import queries as q
from tradewind.store.engine import make_engine, migrate, session_scope

TARGET = """
    from airflow.sdk import DAG, task

    with DAG("target", schedule=None, params={"size": 1}):
        @task
        def show(params=None, dag_run=None):
            if int(params["size"]) < 0:
                raise ValueError("negative size")
            return {"size": params["size"], "conf": dict(dag_run.conf)}

        show()
"""


def controller(**arguments: Any) -> str:
    shown = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
    return f"""
        from airflow.sdk import DAG, task
        from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

        with DAG("controller", schedule=None):
            fire = TriggerDagRunOperator(task_id="fire", trigger_dag_id="target", {shown})

            @task
            def after(run_id):
                return "after " + run_id

            fire >> after("x")
    """


class Home(SchedulerHome):
    def store(self, name: str, source: str) -> list[DAG]:
        dags = super().store(name, source)
        for dag in dags:
            assert dag.import_warnings.messages() == []
        return dags

    def run(self) -> str:
        """Trigger the controller and run the scheduler until nothing is left to do."""
        self.gateway.create_manual_run(self.gateway.get_dag("controller"), None, {}, run_id="go")
        return self.run_scheduler()

    def runs(self, dag_id: str) -> dict[str, str]:
        with session_scope(self.engine) as session:
            return {r.run_id: r.state for r in q.list_dag_runs(session, dag_id)}

    def instances(self, dag_id: str, run_id: str) -> dict[str, tuple[str, int]]:
        with session_scope(self.engine) as session:
            return {ti.task_id: (ti.state, ti.try_number) for ti in q.list_task_instances(session, dag_id, run_id)}

    def xcoms(self, dag_id: str, run_id: str) -> dict[tuple[str, str], Any]:
        with session_scope(self.engine) as session:
            return {(x.task_id, x.key): x.value for x in q.get_xcoms(session, dag_id, run_id)}

    def ended(self, dag_id: str, run_id: str) -> Any:
        with session_scope(self.engine) as session:
            run = q.get_dag_run(session, dag_id, run_id)
            assert run is not None
            return run.end_date


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    home = Home(tmp_path)
    home.store("target.py", TARGET)
    return home


def test_the_triggered_run_gets_the_rendered_conf_and_the_run_id(home: Home) -> None:
    home.store("controller.py", controller(trigger_run_id="for_{{ run_id }}", conf={"size": "{{ 2 + 3 }}"}))
    said = home.run()
    assert home.runs("controller") == {"go": "success"}
    assert home.runs("target") == {"for_go": "success"}
    assert home.xcoms("target", "for_go")[("show", "return_value")] == {"size": "5", "conf": {"size": "5"}}
    assert home.xcoms("controller", "go")[("fire", "trigger_run_id")] == "for_go"
    assert "Task 'fire' (TriggerDagRunOperator) triggered run 'for_go' of DAG 'target'" in said


def test_without_a_run_id_the_run_is_named_after_its_logical_date(home: Home) -> None:
    home.store("controller.py", controller(logical_date="2025-03-04T05:06:07+00:00"))
    home.run()
    assert home.runs("target") == {"manual__2025-03-04T05:06:07+00:00": "success"}
    xcoms = home.xcoms("controller", "go")
    assert xcoms[("fire", "trigger_run_id")] == "manual__2025-03-04T05:06:07+00:00"
    assert xcoms[("fire", "trigger_logical_date")] == "2025-03-04T05:06:07+00:00"


def test_wait_for_completion_finishes_after_the_triggered_run(home: Home) -> None:
    home.store("controller.py", controller(trigger_run_id="waited", wait_for_completion=True, poke_interval=0.05))
    home.run()
    assert home.runs("controller") == {"go": "success"}
    assert home.runs("target") == {"waited": "success"}
    fire = home.instances("controller", "go")["fire"]
    assert fire[0] == "success" and fire[1] >= 2  # triggered, then at least one poke after the wait
    with session_scope(home.engine) as session:
        (ti,) = [t for t in q.list_task_instances(session, "controller", "go") if t.task_id == "fire"]
        fire_ended = ti.end_date
    assert fire_ended >= home.ended("target", "waited")
    assert home.xcoms("controller", "go")[("fire", "trigger_run_id")] == "waited"


def test_wait_for_completion_fails_when_the_run_fails(home: Home) -> None:
    home.store(
        "controller.py",
        controller(trigger_run_id="bad", conf={"size": -1}, wait_for_completion=True, poke_interval=0.05),
    )
    home.run()
    assert home.runs("target") == {"bad": "failed"}
    assert home.runs("controller") == {"go": "failed"}
    assert home.instances("controller", "go")["fire"][0] == "failed"
    assert home.instances("controller", "go")["after"][0] == "upstream_failed"


def test_a_failed_state_listed_as_allowed_lets_the_task_succeed(home: Home) -> None:
    home.store(
        "controller.py",
        controller(
            trigger_run_id="bad",
            conf={"size": -1},
            wait_for_completion=True,
            poke_interval=0.05,
            allowed_states=["success", "failed"],
            failed_states=[],
        ),
    )
    home.run()
    assert home.runs("target") == {"bad": "failed"}
    assert home.runs("controller") == {"go": "success"}


def test_an_existing_run_id_fails_the_task_naming_the_fix(home: Home) -> None:
    home.gateway.create_manual_run(home.gateway.get_dag("target"), None, {}, run_id="taken")
    home.store("controller.py", controller(trigger_run_id="taken"))
    home.run()
    assert home.instances("controller", "go")["fire"][0] == "failed"
    with session_scope(home.engine) as session:
        (ti,) = [t for t in q.list_task_instances(session, "controller", "go") if t.task_id == "fire"]
        message = str(ti.error)
    assert "already has a run with run_id 'taken'" in message
    assert "reset_dag_run=True or skip_when_already_exists=True" in message


def test_skip_when_already_exists_skips_the_task(home: Home) -> None:
    home.gateway.create_manual_run(home.gateway.get_dag("target"), None, {}, run_id="taken")
    home.store("controller.py", controller(trigger_run_id="taken", skip_when_already_exists=True))
    home.run()
    assert home.instances("controller", "go")["fire"][0] == "skipped"
    assert home.instances("controller", "go")["after"][0] == "skipped"


def test_reset_dag_run_clears_a_finished_run_and_runs_it_again(home: Home) -> None:
    home.store("controller.py", controller(trigger_run_id="again", conf={"size": 7}, reset_dag_run=True))
    home.run()
    assert home.runs("target") == {"again": "success"}
    assert home.instances("target", "again")["show"] == ("success", 1)
    # the controller runs a second time: the target's finished run is cleared and run again
    home.gateway.create_manual_run(home.gateway.get_dag("controller"), None, {}, run_id="go2")
    said = home.run_scheduler()
    assert "cleared run 'again' of DAG 'target' to run it again (reset_dag_run)" in said
    assert home.runs("controller") == {"go": "success", "go2": "success"}
    assert home.runs("target") == {"again": "success"}
    assert home.instances("target", "again")["show"] == ("success", 2)


def test_an_unknown_dag_fails_the_task(home: Home) -> None:
    home.store("controller.py", controller().replace('trigger_dag_id="target"', 'trigger_dag_id="nowhere"'))
    home.run()
    assert home.instances("controller", "go")["fire"][0] == "failed"
    assert home.runs("target") == {}


@pytest.mark.slow
def test_with_one_worker_slot_the_waiting_task_frees_it_for_the_triggered_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # real worker processes, which read the run's state through the handle the scheduler gives them;
    # a wait that kept its slot (Airflow's poke style) could never finish with one slot
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "target.py").write_text(textwrap.dedent(TARGET))
    (dags / "controller.py").write_text(
        textwrap.dedent(
            controller(trigger_run_id="waited", conf={"size": 4}, wait_for_completion=True, poke_interval=0.2)
        )
    )
    engine = make_engine()
    migrate(engine)
    gateway = StoreGateway(engine)
    processor = DagProcessor(dags, engine)
    processor.run_once()
    for dag_id in ("target", "controller"):
        gateway.set_paused(dag_id, False)
    gateway.create_manual_run(gateway.get_dag("controller"), None, {}, run_id="go")
    scheduler = Scheduler(
        gateway, LocalExecutor(parallelism=1), processor=processor, log=io.StringIO(), log_path=task_log_path
    )
    scheduler.run(until_idle=True)
    assert [(r.run_id, r.state) for r in gateway.list_runs("target")] == [("waited", "success")]
    assert [(r.run_id, r.state) for r in gateway.list_runs("controller")] == [("go", "success")]
    shown = {r.task_id: r for r in gateway.load_records("target", "waited")}
    assert shown["show"].return_value == {"size": 4, "conf": {"size": 4}}
    fire = {r.task_id: r for r in gateway.load_records("controller", "go")}["fire"]
    assert fire.try_number >= 2


# -- ExternalTaskSensor: a worker reads another DAG's state through the read-only store handle

PRODUCER = """
    from datetime import datetime
    from airflow.sdk import DAG, task

    with DAG("producer", schedule=None, start_date=datetime(2025, 1, 1)):
        @task
        def load(dag_run=None):
            if dag_run.conf.get("fail"):
                raise ValueError("load failed")
            return "loaded"

        load()
"""


def consumer(raw: str = "", **arguments: Any) -> str:
    """The consumer DAG's file; ``raw`` is argument text written as it is (not a repr)."""
    shown = ", ".join([f"{k}={v!r}" for k, v in arguments.items()] + ([raw] if raw else []))
    return f"""
        from datetime import datetime, timedelta
        from airflow.sdk import DAG
        from airflow.providers.standard.sensors.external_task import ExternalTaskSensor

        with DAG("consumer", schedule=None, start_date=datetime(2025, 1, 1)):
            ExternalTaskSensor(
                task_id="wait", external_dag_id="producer", mode="reschedule", poke_interval=0.05, timeout=30,
                {shown}
            )
    """


def at(day: int) -> datetime:
    return datetime(2025, 1, day, tzinfo=UTC)


def external_runs(home: Home, consumer_day: int, producer_day: int, producer_conf: dict[str, Any]) -> str:
    home.store("producer.py", PRODUCER)
    home.gateway.create_manual_run(home.gateway.get_dag("consumer"), at(consumer_day), {}, run_id="c")
    home.gateway.create_manual_run(home.gateway.get_dag("producer"), at(producer_day), producer_conf, run_id="p")
    return home.run_scheduler()


def test_external_task_sensor_waits_for_the_task_at_the_same_logical_date(home: Home) -> None:
    home.store("consumer.py", consumer(external_task_id="load"))
    external_runs(home, 2, 2, {})
    assert home.runs("producer") == {"p": "success"}
    assert home.instances("consumer", "c")["wait"][0] == "success"


def test_external_task_sensor_fails_on_a_failed_state(home: Home) -> None:
    home.store("consumer.py", consumer(external_task_id="load", failed_states=["failed"]))
    external_runs(home, 2, 2, {"fail": True})
    assert home.instances("consumer", "c")["wait"][0] == "failed"
    with session_scope(home.engine) as session:
        (ti,) = q.list_task_instances(session, "consumer", "c")
        assert "Some of the external tasks ['load'] in DAG producer failed." in str(ti.error)


def test_external_task_sensor_on_the_whole_run_with_execution_delta(home: Home) -> None:
    home.store(
        "consumer.py",
        consumer(raw="execution_delta=timedelta(days=1)"),
    )
    external_runs(home, 3, 2, {})
    assert home.instances("consumer", "c")["wait"][0] == "success"


def test_external_task_sensor_times_out_when_the_date_does_not_match(home: Home) -> None:
    home.store("consumer.py", consumer(external_task_id="load").replace("timeout=30", "timeout=0.3"))  # 2 != 3
    external_runs(home, 3, 2, {})
    assert home.instances("consumer", "c")["wait"][0] == "failed"


def test_airflow_trigger_example_passes_its_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Airflow's example_trigger_target_dag, read from its wheel, triggered the way its
    # example_trigger_controller_dag (in the standard provider) does it
    wheels = sorted((Path(__file__).parents[2] / ".cache" / "airflow-wheels").glob("apache_airflow_core-3.*.whl"))
    if not wheels:
        pytest.fail("apache_airflow_core-3 wheel not in .cache/airflow-wheels: run scripts/test, which downloads it")
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    home = Home(tmp_path)
    with zipfile.ZipFile(wheels[-1]) as archive:
        home.store("target.py", archive.read("airflow/example_dags/example_trigger_target_dag.py").decode())
    home.store(
        "controller.py",
        """
        import pendulum
        from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
        from airflow.sdk import DAG

        with DAG(dag_id="controller", start_date=pendulum.datetime(2021, 1, 1, tz="UTC"), catchup=False,
                 schedule=None):
            TriggerDagRunOperator(task_id="test_trigger_dagrun", trigger_dag_id="example_trigger_target_dag",
                                  conf={"message": "Hello World"})
        """,
    )
    home.run()
    [(run_id, state)] = home.runs("example_trigger_target_dag").items()
    assert state == "success" and run_id.startswith("manual__")
    xcoms = home.xcoms("example_trigger_target_dag", run_id)
    assert xcoms[("bash_task", "return_value")] == "Here is the message: Hello World"
    assert home.xcoms("controller", "go")[("test_trigger_dagrun", "trigger_run_id")] == run_id


def test_a_trigger_request_survives_in_the_try_log_for_a_restarted_scheduler(tmp_path: Path) -> None:
    # a try that ends while no scheduler runs is applied from its log's last line; the request
    # travels with it, so the restarted scheduler still creates the run (Scheduler._triggered)
    key = TaskInstanceKey("controller", "go", "fire", -1, 1)
    request = {"dag_id": "target", "run_id": "r", "conf": {"a": [1]}, "logical_date": None, "wait_seconds": 2.0}
    result = TaskResult(key, TaskInstanceState.SUCCESS, at(1), at(1), trigger_request=request)
    log = tmp_path / "try.log"
    log.write_text("output\n" + result_line(result))
    recovered = result_from_log(log, key)
    assert recovered is not None and recovered.trigger_request == request
