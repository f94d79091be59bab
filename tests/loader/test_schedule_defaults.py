"""What a cron string or a timedelta means in a DAG file (docs/adr/0008): an Airflow 3 file
(it imports airflow.sdk or airflow.providers.standard) gets trigger timetables as in Airflow 3;
any other file data intervals as in Airflow 2; ``[scheduler] create_cron_data_intervals`` and
``create_delta_data_intervals`` set to true/false decide for every file. Airflow's timetable
classes import from their Airflow 2 and 3 paths and from airflow.sdk."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tradewind.definitions.dag import DAG
from tradewind.loader.dagbag import import_dag_file


def load(tmp_path: Path, source: str) -> dict[str, DAG]:
    path = tmp_path / "dags.py"
    path.write_text(textwrap.dedent(source))
    dags, error, _ = import_dag_file(path)
    assert error is None, error.full
    return {dag.dag_id: dag for dag in dags}


def kinds(dags: dict[str, DAG]) -> dict[str, tuple[str, str]]:
    return {dag_id: (type(d.timetable).__name__, d.timetable.chosen_by) for dag_id, d in dags.items()}


BODY = """
    with DAG("cron", start_date=datetime(2025, 1, 1), schedule="0 2 * * *"):
        pass
    with DAG("delta", start_date=datetime(2025, 1, 1), schedule=timedelta(hours=6)):
        pass
"""
HEADERS = {
    "airflow3-sdk": "from datetime import datetime, timedelta\nfrom airflow.sdk import DAG\n",
    "airflow3-providers": (
        "from datetime import datetime, timedelta\nfrom airflow import DAG\n"
        "from airflow.providers.standard.operators.empty import EmptyOperator\n"
    ),
    "airflow2": (
        "from datetime import datetime, timedelta\nfrom airflow import DAG\n"
        "from airflow.operators.bash import BashOperator\n"
    ),
    "airflow-either": "from datetime import datetime, timedelta\nfrom airflow import DAG\n",
    "tradewind": "from datetime import datetime, timedelta\nfrom tradewind import DAG\n",
}


@pytest.mark.parametrize(
    ("header", "setting", "cron", "delta", "why"),
    [
        ("airflow3-sdk", None, "CronTriggerTimetable", "DeltaTriggerTimetable", "Airflow 3 file (imports airflow.sdk)"),
        (
            "airflow3-providers",
            None,
            "CronTriggerTimetable",
            "DeltaTriggerTimetable",
            "Airflow 3 file (imports airflow.providers.standard.operators.empty)",
        ),
        (
            "airflow2",
            None,
            "CronDataIntervalTimetable",
            "DeltaDataIntervalTimetable",
            "Airflow 2 file (imports airflow)",
        ),
        (
            "airflow-either",
            None,
            "CronDataIntervalTimetable",
            "DeltaDataIntervalTimetable",
            "Airflow 2 file (imports airflow)",
        ),
        ("tradewind", None, "CronDataIntervalTimetable", "DeltaDataIntervalTimetable", "not an Airflow file"),
        (
            "airflow3-sdk",
            "true",
            "CronDataIntervalTimetable",
            "DeltaDataIntervalTimetable",
            "[scheduler] create_*_data_intervals",
        ),
        ("airflow2", "false", "CronTriggerTimetable", "DeltaTriggerTimetable", "[scheduler] create_*_data_intervals"),
    ],
)
def test_the_file_or_the_setting_decides_what_a_schedule_means(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, header: str, setting: str | None, cron: str, delta: str, why: str
) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    for key in ("CREATE_CRON_DATA_INTERVALS", "CREATE_DELTA_DATA_INTERVALS"):
        if setting is None:
            monkeypatch.delenv(f"TRADEWIND__SCHEDULER__{key}", raising=False)
        else:
            monkeypatch.setenv(f"TRADEWIND__SCHEDULER__{key}", setting)
    assert kinds(load(tmp_path, HEADERS[header] + textwrap.dedent(BODY))) == {
        "cron": (cron, why),
        "delta": (delta, why),
    }


def test_schedule_interval_means_data_intervals_even_in_a_file_importing_airflow_sdk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    dags = load(
        tmp_path,
        """
        from datetime import datetime
        from airflow.sdk import DAG
        with DAG("old", start_date=datetime(2025, 1, 1), schedule_interval="@daily"):
            pass
        with DAG("new", start_date=datetime(2025, 1, 1), schedule="@daily"):
            pass
        """,
    )
    assert kinds(dags) == {
        "old": ("CronDataIntervalTimetable", "schedule_interval= (an Airflow 2 argument)"),
        "new": ("CronTriggerTimetable", "Airflow 3 file (imports airflow.sdk)"),
    }


def test_one_setting_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TRADEWIND__SCHEDULER__CREATE_DELTA_DATA_INTERVALS", "true")
    monkeypatch.delenv("TRADEWIND__SCHEDULER__CREATE_CRON_DATA_INTERVALS", raising=False)
    dags = load(tmp_path, HEADERS["airflow3-sdk"] + textwrap.dedent(BODY))
    assert {dag_id: type(d.timetable).__name__ for dag_id, d in dags.items()} == {
        "cron": "CronTriggerTimetable",
        "delta": "DeltaDataIntervalTimetable",
    }


def test_a_bad_setting_is_an_import_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TRADEWIND__SCHEDULER__CREATE_CRON_DATA_INTERVALS", "maybe")
    path = tmp_path / "dags.py"
    path.write_text(HEADERS["airflow2"] + textwrap.dedent(BODY))
    _, error, _ = import_dag_file(path)
    assert error is not None
    assert "[scheduler] create_cron_data_intervals must be true, false or auto, got 'maybe'" in error.error


IMPORTS = """
    from datetime import datetime, timedelta, timezone
    from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction, Timetable
    from airflow.timetables.trigger import CronTriggerTimetable, DeltaTriggerTimetable, MultipleCronTriggerTimetable
    from airflow.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
    from airflow.timetables.events import EventsTimetable
    from airflow.timetables.simple import ContinuousTimetable, NullTimetable, OnceTimetable
    from airflow.sdk import (
        DAG,
        CronDataIntervalTimetable as SdkCronDataInterval,
        CronTriggerTimetable as SdkCronTrigger,
        DeltaDataIntervalTimetable as SdkDeltaDataInterval,
        DeltaTriggerTimetable as SdkDeltaTrigger,
        EventsTimetable as SdkEvents,
        MultipleCronTriggerTimetable as SdkMultiple,
    )
    from airflow.sdk.definitions.timetables.trigger import CronTriggerTimetable as DeepCronTrigger

    assert SdkCronTrigger is CronTriggerTimetable is DeepCronTrigger and SdkMultiple is MultipleCronTriggerTimetable
    assert SdkCronDataInterval is CronDataIntervalTimetable and SdkDeltaDataInterval is DeltaDataIntervalTimetable
    assert SdkDeltaTrigger is DeltaTriggerTimetable and SdkEvents is EventsTimetable
    START = datetime(2025, 1, 1, tzinfo=timezone.utc)
    for dag_id, schedule in {
        "cron_trigger": CronTriggerTimetable("0 2 * * *", timezone="Europe/Amsterdam", interval=timedelta(hours=1)),
        "run_immediately": CronTriggerTimetable("@daily", timezone="UTC", run_immediately=True),
        "delta_trigger": DeltaTriggerTimetable(timedelta(hours=6), interval=timedelta(hours=6)),
        "multiple": MultipleCronTriggerTimetable("0 6 * * *", "30 18 * * *", timezone="UTC"),
        "cron_interval": CronDataIntervalTimetable("0 2 * * *", timezone="Europe/Amsterdam"),
        "delta_interval": DeltaDataIntervalTimetable(timedelta(hours=6)),
        "events": EventsTimetable([START, START + timedelta(days=30)], restrict_to_events=True),
        "continuous": ContinuousTimetable(),
        "once": OnceTimetable(),
        "never": NullTimetable(),
        "continuous_preset": "@continuous",
    }.items():
        with DAG(dag_id, start_date=START, schedule=schedule, max_active_runs=1):
            pass
"""


def test_every_timetable_class_imports_from_its_airflow_paths(tmp_path: Path) -> None:
    dags = load(tmp_path, IMPORTS)
    assert {dag_id: type(d.timetable).__name__ for dag_id, d in dags.items()} == {
        "cron_trigger": "CronTriggerTimetable",
        "run_immediately": "CronTriggerTimetable",
        "delta_trigger": "DeltaTriggerTimetable",
        "multiple": "MultipleCronTriggerTimetable",
        "cron_interval": "CronDataIntervalTimetable",
        "delta_interval": "DeltaDataIntervalTimetable",
        "events": "EventsTimetable",
        "continuous": "ContinuousTimetable",
        "once": "OnceTimetable",
        "never": "NullTimetable",
        "continuous_preset": "ContinuousTimetable",
    }


def test_continuous_needs_max_active_runs_1(tmp_path: Path) -> None:
    path = tmp_path / "dags.py"
    path.write_text(
        "from datetime import datetime\nfrom airflow.sdk import DAG\n"
        'DAG("c", start_date=datetime(2025, 1, 1), schedule="@continuous")\n'
    )
    _, error, _ = import_dag_file(path)
    assert error is not None
    assert "DAG 'c': schedule @continuous runs at most 1 run at a time; pass max_active_runs=1 (got 16)" in error.error
