"""Airflow 3.3's example_workday_timetable: its timetable lives in a plugin file
(plugins/workday.py, which registers it with an ``AirflowPlugin``). The example imports it from
Airflow's own package (``airflow.example_dags.plugins.workday``), which tradewind does not provide
(and Airflow 3.3.2's ``dags test`` refuses the DAG unless the plugin is registered). Kept next
to the DAG file and imported by module name, as a user keeps a plugin, it works: the runs are
those Airflow's timetable gives (observed with a real Airflow 3.3.2, without pandas, so no
holiday calendar; the same here)."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_airflow_examples import wheel

from tradewind.definitions.timetables import TimeRestriction
from tradewind.loader import load_dags

AIRFLOW_RUNS = [  # (run after, data interval start, data interval end): Friday, then weekdays
    ("2021-01-02", "2021-01-01", "2021-01-02"),
    ("2021-01-05", "2021-01-04", "2021-01-05"),
    ("2021-01-06", "2021-01-05", "2021-01-06"),
    ("2021-01-07", "2021-01-06", "2021-01-07"),
    ("2021-01-08", "2021-01-07", "2021-01-08"),
]


def day(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}T00:00:00+00:00")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    with zipfile.ZipFile(wheel("apache_airflow_core-3.")) as archive:
        (tmp_path / "workday.py").write_bytes(archive.read("airflow/example_dags/plugins/workday.py"))
        source = archive.read("airflow/example_dags/example_workday_timetable.py").decode()
    line = "from airflow.example_dags.plugins.workday import AfterWorkdayTimetable"
    assert line in source
    (tmp_path / "example_workday_timetable.py").write_text(
        source.replace(line, "from workday import AfterWorkdayTimetable")
    )
    return tmp_path


def test_the_workday_timetable_from_a_plugin_file_gives_airflows_runs(folder: Path) -> None:
    bag = load_dags(folder)
    assert bag.import_errors == {}
    timetable = bag.get_dag("example_workday_timetable").timetable
    assert type(timetable).__name__ == "AfterWorkdayTimetable"

    found, last = [], None
    for _ in range(5):
        info = timetable.next_run(last, TimeRestriction(day("2021-01-01"), None, True), datetime.now(UTC))
        assert info is not None
        found.append((info.run_after, info.data_interval.start, info.data_interval.end))
        last = info.data_interval

    assert found == [tuple(day(text) for text in row) for row in AIRFLOW_RUNS]
    manual = timetable.infer_manual_data_interval(run_after=datetime(2026, 11, 29, 12, tzinfo=UTC))
    assert (manual.start, manual.end) == (day("2026-11-27"), day("2026-11-28"))  # a Sunday: Friday's


def test_a_plugin_that_adds_more_than_timetables_fails_naming_it(tmp_path: Path) -> None:
    (tmp_path / "macros_plugin.py").write_text(
        "from airflow.plugins_manager import AirflowPlugin\n\n"
        "class MacrosPlugin(AirflowPlugin):\n"
        "    name = 'macros'\n"
        "    macros = [len]\n"
    )
    (tmp_path / "uses_it.py").write_text(
        "from airflow.sdk import DAG\nimport macros_plugin\n\nDAG('d', schedule=None)\n"
    )

    errors = load_dags(tmp_path).import_errors

    assert list(errors) == [str(tmp_path / "uses_it.py")]
    assert (
        "Airflow plugin MacrosPlugin: macros is not supported by tradewind"
        in errors[str(tmp_path / "uses_it.py")].error
    )
