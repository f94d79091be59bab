"""``tradewind dags next-execution DAG_ID [-n N]``: the next runs the scheduler would create,
as Airflow's command prints them (one logical date a line), or with their data intervals."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from clikit import cli, home_with_dags

pytestmark = pytest.mark.slow  # the DAG processor imports the files in child processes

FILES = {
    "airflow3.py": """
        import pendulum
        from airflow.sdk import DAG

        AMS = pendulum.timezone("Europe/Amsterdam")
        with DAG("trigger_week", start_date=pendulum.datetime(2025, 10, 24, tz=AMS),
                 end_date=pendulum.datetime(2025, 10, 27, tz=AMS), schedule="0 2 * * *", catchup=True):
            pass
    """,
    "airflow2.py": """
        import pendulum
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator

        AMS = pendulum.timezone("Europe/Amsterdam")
        with DAG("interval_week", start_date=pendulum.datetime(2025, 10, 24, tz=AMS),
                 end_date=pendulum.datetime(2025, 10, 27, tz=AMS), schedule_interval="0 2 * * *", catchup=True):
            EmptyOperator(task_id="t")
        with DAG("unscheduled", start_date=pendulum.datetime(2025, 10, 24), schedule=None):
            EmptyOperator(task_id="t")
    """,
}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with home_with_dags(tmp_path_factory.mktemp("next"), FILES):
        yield


def test_logical_dates_one_a_line(env: None) -> None:
    code, out, err = cli("dags", "next-execution", "trigger_week", "-n", "3")
    assert code == 0, err
    assert out.splitlines() == ["2025-10-24T00:00:00+00:00", "2025-10-25T00:00:00+00:00", "2025-10-26T01:00:00+00:00"]


def test_with_data_intervals_and_the_end_date(env: None) -> None:
    code, out, err = cli("dags", "next-execution", "interval_week", "-n", "5", "-o", "json")
    assert code == 0, err
    assert [(r["logical_date"], r["data_interval_end"], r["run_after"]) for r in json.loads(out)] == [
        ("2025-10-24T00:00:00+00:00", "2025-10-25T00:00:00+00:00", "2025-10-25T00:00:00+00:00"),
        ("2025-10-25T00:00:00+00:00", "2025-10-26T01:00:00+00:00", "2025-10-26T01:00:00+00:00"),
        ("2025-10-26T01:00:00+00:00", "2025-10-27T01:00:00+00:00", "2025-10-27T01:00:00+00:00"),
    ]
    assert "No further scheduled run: the DAG's schedule is 0 2 * * * (CronDataIntervalTimetable), ending" in err


def test_a_dag_without_a_schedule_and_a_paused_one(env: None) -> None:
    code, out, err = cli("dags", "next-execution", "unscheduled")
    assert (code, out) == (0, "")
    assert "No scheduled run: the DAG's schedule is None (NullTimetable)" in err
    assert cli("dags", "pause", "trigger_week")[0] == 0
    code, out, err = cli("dags", "next-execution", "trigger_week")
    assert (code, out) == (0, "2025-10-24T00:00:00+00:00\n")
    assert "This DAG is paused" in err
    code, _, err = cli("dags", "next-execution", "nope")
    assert code == 1 and "DAG 'nope' not found" in err


def test_dags_list_and_show_name_the_timetable(env: None) -> None:
    code, out, _ = cli("dags", "list", "-o", "json")
    assert code == 0
    assert {r["dag_id"]: (r["timetable"], r["timetable_chosen_by"]) for r in json.loads(out)} == {
        "interval_week": ("CronDataIntervalTimetable", "schedule_interval= (an Airflow 2 argument)"),
        "trigger_week": ("CronTriggerTimetable", "Airflow 3 file (imports airflow.sdk)"),
        "unscheduled": ("NullTimetable", ""),
    }
    code, out, _ = cli("dags", "show", "trigger_week")
    assert "Timetable: CronTriggerTimetable; chosen by: Airflow 3 file (imports airflow.sdk)" in out
