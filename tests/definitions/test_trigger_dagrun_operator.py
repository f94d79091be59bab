"""TriggerDagRunOperator in a DAG file: its arguments, and what `dags test` does with it (it
runs one DAG and creates no other run: it says so and the task succeeds without waiting).
Under the scheduler: tests/scheduler/test_trigger_dagrun.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dagfiles import import_error, load, run, states

DAY = datetime(2025, 1, 2, tzinfo=UTC)
HEADER = """
    from datetime import datetime
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
"""


def test_dags_test_creates_no_run_says_so_and_does_not_wait(tmp_path: Path) -> None:
    source = (
        HEADER
        + """
    with DAG("controller", schedule=None, start_date=datetime(2025, 1, 1)):
        TriggerDagRunOperator(
            task_id="fire", trigger_dag_id="target", trigger_run_id="for_{{ run_id }}",
            wait_for_completion=True, poke_interval=3600,
        )
    """
    )
    dag = load(tmp_path, source, "controller")
    assert dag.import_warnings.messages() == []
    state, results, log, records = run(dag, logical_date=DAY)
    assert (state, states(results)) == ("success", {"fire": "success"})
    assert "Task 'fire' would trigger run 'for_manual__2025-01-02T00:00:00+00:00' of DAG 'target'" in log
    assert "dags test runs one DAG and creates no other run" in log
    [record] = records.records()
    assert record.xcoms["trigger_run_id"] == "for_manual__2025-01-02T00:00:00+00:00"


def test_conf_that_is_not_an_object_fails_the_task_naming_it(tmp_path: Path) -> None:
    source = (
        HEADER
        + """
    with DAG("controller", schedule=None, start_date=datetime(2025, 1, 1)):
        TriggerDagRunOperator(task_id="fire", trigger_dag_id="target", conf="[1, 2]")
    """
    )
    state, results, log, _ = run(load(tmp_path, source, "controller"), logical_date=DAY)
    assert (state, states(results)) == ("failed", {"fire": "failed"})
    assert "Task 'fire': conf must be a dict (a JSON object), got list" in log


def test_arguments_tradewind_does_not_act_on_warn(tmp_path: Path) -> None:
    source = (
        HEADER
        + """
    with DAG("controller", schedule=None, start_date=datetime(2025, 1, 1)):
        TriggerDagRunOperator(task_id="fire", trigger_dag_id="target", note="from the controller",
                              fail_when_dag_is_paused=True)
    """
    )
    assert load(tmp_path, source, "controller").import_warnings.messages() == [
        "task 'fire': TriggerDagRunOperator argument note is ignored: tradewind runs have no notes",
        "task 'fire': TriggerDagRunOperator argument fail_when_dag_is_paused is ignored: a run of a paused DAG is "
        "created and starts when the DAG is unpaused",
    ]


def test_an_unknown_state_fails_the_import_naming_the_argument(tmp_path: Path) -> None:
    source = (
        HEADER
        + """
    with DAG("controller", schedule=None, start_date=datetime(2025, 1, 1)):
        TriggerDagRunOperator(task_id="fire", trigger_dag_id="target", allowed_states=["done"])
    """
    )
    message = import_error(tmp_path, source)
    assert "TriggerDagRunOperator(allowed_states=['done'])" in message
    assert "queued, running, success, failed" in message


def test_the_airflow_2_path_imports(tmp_path: Path) -> None:
    source = """
    from datetime import datetime
    from airflow import DAG
    from airflow.operators.trigger_dagrun import TriggerDagRunOperator

    with DAG("controller", schedule_interval=None, start_date=datetime(2025, 1, 1)):
        TriggerDagRunOperator(task_id="fire", trigger_dag_id="target", conf={"a": 1}, reset_dag_run=True)
    """
    assert load(tmp_path, source, "controller").task_dict["fire"].conf == {"a": 1}


def test_external_task_sensor_without_a_store_fails_saying_so(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))  # no store file: nothing to read
    source = """
    from datetime import datetime
    from airflow.sdk import DAG
    from airflow.sensors.external_task import ExternalTaskSensor

    with DAG("consumer", schedule=None, start_date=datetime(2025, 1, 1)):
        ExternalTaskSensor(task_id="wait", external_dag_id="producer", external_task_id="load", timeout=5)
    """
    state, results, log, _ = run(load(tmp_path / "dags", source, "consumer"), logical_date=DAY)
    assert (state, states(results)) == ("failed", {"wait": "failed"})
    assert "Task 'wait' cannot read DAG 'producer': no store is open in this worker" in log


def test_external_task_sensor_arguments_are_checked_at_import(tmp_path: Path) -> None:
    source = """
    from datetime import datetime, timedelta
    from airflow.sdk import DAG
    from airflow.providers.standard.sensors.external_task import ExternalTaskSensor

    with DAG("consumer", schedule=None, start_date=datetime(2025, 1, 1)):
        ExternalTaskSensor(task_id="wait", external_dag_id="producer", allowed_states=["upstream_failed"])
    """
    message = import_error(tmp_path, source)
    assert "ExternalTaskSensor (task_id: wait): ['upstream_failed'] are not DAG run states" in message
