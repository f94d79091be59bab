"""Sensors run in poke mode as in Airflow: poke until true, ``timeout`` fails without retrying
(or skips with ``soft_fail``), ``PokeReturnValue`` hands a value on, ``@task.sensor``."""

from __future__ import annotations

from pathlib import Path

from dagfiles import load, run, states

HEADER = """
    from datetime import datetime, timedelta
    from airflow.sdk import DAG, task, PokeReturnValue
    from airflow.providers.standard.sensors.python import PythonSensor
    from airflow.providers.standard.sensors.filesystem import FileSensor
    from airflow.providers.standard.sensors.date_time import DateTimeSensor
    from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor
"""


def test_python_sensor_pokes_until_true_and_hands_on_its_value(tmp_path: Path) -> None:
    source = (
        HEADER
        + """
    pokes = []

    def ready():
        pokes.append(1)
        return PokeReturnValue(is_done=len(pokes) >= 3, xcom_value={"pokes": len(pokes)})

    with DAG("wait_python", start_date=datetime(2025, 1, 1), schedule=None):
        wait = PythonSensor(task_id="wait", python_callable=ready, poke_interval=0.01, timeout=5)

        @task
        def after(found):
            return found["pokes"] * 10

        after(wait.output)
    """
    )
    run_state, results, _, _ = run(load(tmp_path, source, "wait_python"))
    assert run_state == "success"
    assert results[("wait", -1)] == ("success", {"pokes": 3})
    assert results[("after", -1)] == ("success", 30)


def test_a_sensor_that_times_out_fails_without_retrying(tmp_path: Path) -> None:
    source = (
        HEADER
        + """
    with DAG("wait_timeout", start_date=datetime(2025, 1, 1), schedule=None):
        PythonSensor(task_id="wait", python_callable=lambda: False, poke_interval=0.01, timeout=0.05, retries=3)
    """
    )
    run_state, results, log, state = run(load(tmp_path, source, "wait_timeout"))
    assert run_state == "failed"
    assert results[("wait", -1)][0] == "failed"
    [record] = state.records()
    assert record.try_number == 1  # AirflowSensorTimeout is not retried
    assert record.error is not None and record.error.type == "SensorTimeout"
    assert "Sensor 'wait' timed out" in log


def test_soft_fail_skips_the_sensor_and_what_follows(tmp_path: Path) -> None:
    source = (
        HEADER
        + """
    with DAG("wait_soft", start_date=datetime(2025, 1, 1), schedule=None):
        wait = PythonSensor(task_id="wait", python_callable=lambda: False, poke_interval=0.01, timeout=0.05,
                            soft_fail=True)

        @task
        def after():
            return 1

        wait >> after()
    """
    )
    run_state, results, _, _ = run(load(tmp_path, source, "wait_soft"))
    assert states(results) == {"wait": "skipped", "after": "skipped"}
    assert run_state == "success"


def test_task_sensor_decorator(tmp_path: Path) -> None:
    source = (
        HEADER
        + """
    with DAG("wait_decorated", start_date=datetime(2025, 1, 1), schedule=None):
        @task.sensor(poke_interval=0.01, timeout=5)
        def has_rows(table: str) -> PokeReturnValue:
            return PokeReturnValue(is_done=True, xcom_value=table + ":42")

        @task
        def load(found):
            return found.upper()

        load(has_rows("orders"))
    """
    )
    dag = load(tmp_path, source, "wait_decorated")
    assert type(dag.task_dict["has_rows"]).custom_operator_name == "@task.sensor"
    _, results, _, _ = run(dag)
    assert results[("has_rows", -1)] == ("success", "orders:42")
    assert results[("load", -1)] == ("success", "ORDERS:42")


def test_file_date_and_delta_sensors(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "part-0.csv").write_text("a,b\n")
    source = (
        HEADER
        + f"""
    with DAG("wait_files", start_date=datetime(2025, 1, 1), schedule=None):
        FileSensor(task_id="file", filepath="{data}/*.csv", poke_interval=0.01, timeout=1)
        FileSensor(task_id="folder", filepath="{data}", poke_interval=0.01, timeout=1)
        FileSensor(task_id="missing", filepath="{data}/nothing.txt", poke_interval=0.01, timeout=0.05,
                   soft_fail=True)
        DateTimeSensor(task_id="past", target_time="{{{{ logical_date - macros.timedelta(days=1) }}}}",
                       poke_interval=0.01, timeout=1)
        TimeDeltaSensor(task_id="delta", delta=timedelta(days=-1), poke_interval=0.01, timeout=1)
    """
    )
    _, results, _, _ = run(load(tmp_path / "dags", source, "wait_files"))
    assert states(results) == {
        "file": "success",
        "folder": "success",
        "missing": "skipped",
        "past": "success",
        "delta": "success",
    }


def test_deferrable_runs_as_poke_with_an_import_warning(tmp_path: Path) -> None:
    source = (
        HEADER
        + """
    with DAG("wait_deferred", start_date=datetime(2025, 1, 1), schedule=None):
        PythonSensor(task_id="wait", python_callable=lambda: True, deferrable=True, poke_interval=0.01)
    """
    )
    dag = load(tmp_path, source, "wait_deferred")
    assert dag.import_warnings.messages() == [
        "task 'wait': deferrable=True runs the sensor in poke mode (tradewind has no triggerer)"
    ]
    assert run(dag)[0] == "success"


def test_bash_and_weekday_sensors_on_airflow_2_paths(tmp_path: Path) -> None:
    source = """
    from datetime import datetime
    from airflow import DAG
    from airflow.sensors.bash import BashSensor
    from airflow.sensors.weekday import DayOfWeekSensor
    from airflow.utils.weekday import WeekDay

    with DAG("wait_bash", start_date=datetime(2025, 1, 1), schedule=None):
        BashSensor(task_id="ok", bash_command="test 1 -eq 1", poke_interval=0.01, timeout=1)
        BashSensor(task_id="never", bash_command="exit 1", poke_interval=0.01, timeout=0.05, soft_fail=True)
        BashSensor(task_id="broken", bash_command="exit 2", retry_exit_code=1, poke_interval=0.01, timeout=1)
        DayOfWeekSensor(task_id="saturday", week_day=WeekDay.SATURDAY, use_task_logical_date=True,
                        poke_interval=0.01, timeout=0.05, soft_fail=True)
        DayOfWeekSensor(task_id="weekend", week_day={"Saturday", "Sunday"}, use_task_logical_date=True,
                        poke_interval=0.01, timeout=0.05, soft_fail=True)
    """
    from datetime import UTC, datetime

    _, results, _, _ = run(
        load(tmp_path, source, "wait_bash"), logical_date=datetime(2025, 6, 8, tzinfo=UTC)
    )  # a Sunday
    assert states(results) == {
        "ok": "success",
        "never": "skipped",
        "broken": "failed",
        "saturday": "skipped",
        "weekend": "success",
    }


def test_reschedule_mode_pokes_once_per_try_without_using_retries(tmp_path: Path) -> None:
    source = (
        HEADER
        + """
    pokes = []

    def third_time():
        pokes.append(1)
        return PokeReturnValue(is_done=len(pokes) >= 3, xcom_value=len(pokes))

    with DAG("wait_rescheduled", start_date=datetime(2025, 1, 1), schedule=None):
        PythonSensor(task_id="wait", python_callable=third_time, mode="reschedule", poke_interval=0.05, retries=0)
    """
    )
    dag = load(tmp_path, source, "wait_rescheduled")
    assert dag.import_warnings.messages() == []  # reschedule mode is implemented
    run_state, results, log, state = run(dag)
    assert run_state == "success"
    assert results[("wait", -1)] == ("success", 3)
    [record] = state.records()
    assert record.try_number == 3  # one try per poke, none of them a retry
    assert log.count("Rescheduling: the next poke is at") == 2


def test_reschedule_mode_times_out_from_the_first_poke(tmp_path: Path) -> None:
    source = (
        HEADER
        + """
    with DAG("reschedule_timeout", start_date=datetime(2025, 1, 1), schedule=None):
        PythonSensor(task_id="hard", python_callable=lambda: False, mode="reschedule", poke_interval=0.05,
                     timeout=0.2)
        PythonSensor(task_id="soft", python_callable=lambda: False, mode="reschedule", poke_interval=0.05,
                     timeout=0.2, soft_fail=True)
    """
    )
    run_state, results, _, state = run(load(tmp_path, source, "reschedule_timeout"))
    assert states(results) == {"hard": "failed", "soft": "skipped"}
    hard = next(r for r in state.records() if r.task_id == "hard")
    assert hard.error is not None and hard.error.type == "SensorTimeout"
    assert 3 <= hard.try_number <= 10
    assert run_state == "failed"


def test_a_reschedule_outcome_in_a_try_log_keeps_the_next_poke_time(tmp_path: Path) -> None:
    # a scheduler that died before recording a reschedule reads it back from the try's log
    from datetime import UTC, datetime, timedelta

    from tradewind.definitions.instance_key import TaskInstanceKey
    from tradewind.definitions.states import TaskInstanceState
    from tradewind.runtime.durable import result_from_log, result_line
    from tradewind.runtime.work import TaskResult

    key = TaskInstanceKey("d", "r", "wait", -1, 2)
    now = datetime.now(UTC)
    poke = TaskResult(key, TaskInstanceState.UP_FOR_RESCHEDULE, now, now, reschedule_at=now + timedelta(seconds=30))
    path = tmp_path / "try.log"
    path.write_text(result_line(poke))
    found = result_from_log(path, key)
    assert found is not None
    assert (found.state, found.reschedule_at) == (TaskInstanceState.UP_FOR_RESCHEDULE, now + timedelta(seconds=30))
