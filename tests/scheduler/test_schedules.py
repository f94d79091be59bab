"""The scheduler creates the runs a schedule gives, in both meanings of a cron string: the week
Europe/Amsterdam turns its clocks back (26 October 2025), read from an Airflow 2 file (data
intervals) and from an Airflow 3 file (trigger times). The DAG files are read in this process
and stored as the DAG processor stores them; the scheduler works from the store."""

from __future__ import annotations

import io
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.scheduler.scheduler_home import SchedulerHome

from tradewind.executors.inline import InlineExecutor
from tradewind.loader.dagbag import module_name_for
from tradewind.scheduler.loop import Scheduler

AIRFLOW2 = """
    import pendulum
    from airflow import DAG
    from airflow.operators.empty import EmptyOperator

    AMS = pendulum.timezone("Europe/Amsterdam")
    with DAG("dst_week", start_date=pendulum.datetime(2025, 10, 22, tz=AMS),
             end_date=pendulum.datetime(2025, 10, 28, tz=AMS), schedule="0 2 * * *", catchup=True):
        EmptyOperator(task_id="load")
"""
AIRFLOW3 = """
    import pendulum
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator

    AMS = pendulum.timezone("Europe/Amsterdam")
    with DAG("dst_week", start_date=pendulum.datetime(2025, 10, 22, tz=AMS),
             end_date=pendulum.datetime(2025, 10, 28, tz=AMS), schedule="0 2 * * *", catchup=True):
        EmptyOperator(task_id="load")
"""

# 02:00 in Amsterdam, in UTC: CEST (+2) up to the 25th; on the 26th 02:00 happens twice and the
# run takes the second (CET, +1)
FIRES = ["10-22T00:00", "10-23T00:00", "10-24T00:00", "10-25T00:00", "10-26T01:00", "10-27T01:00"]
DATA_INTERVALS = [(start, end) for start, end in zip(FIRES, [*FIRES[1:], "10-28T01:00"], strict=True)]
TRIGGER_TIMES = [(fire, fire) for fire in FIRES]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(f"2025-{text}+00:00")


class Home(SchedulerHome):
    def scheduler(self) -> Scheduler:
        def no_tasks(item: object) -> None:
            raise AssertionError("this test creates runs, it runs no task")

        return Scheduler(self.gateway, InlineExecutor(no_tasks, io.StringIO()), log=io.StringIO())  # type: ignore[arg-type]

    def runs(self, dag_id: str) -> list[tuple[str, str, str, str]]:
        rows = sorted(self.gateway.list_runs(dag_id), key=lambda r: r.logical_date)
        return [
            (
                r.run_id,
                *(t.strftime("%m-%dT%H:%M") for t in (r.logical_date, r.data_interval_start, r.data_interval_end)),
            )
            for r in rows
        ]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TRADEWIND__SCHEDULER__CREATE_CRON_DATA_INTERVALS", raising=False)
    return Home(tmp_path)


@pytest.mark.parametrize(
    ("source", "setting", "expected"),
    [
        (AIRFLOW2, "auto", DATA_INTERVALS),
        (AIRFLOW3, "auto", TRIGGER_TIMES),
        (AIRFLOW3, "true", DATA_INTERVALS),
        (AIRFLOW2, "false", TRIGGER_TIMES),
    ],
    ids=["airflow2-file", "airflow3-file", "airflow3-file-data-intervals-set", "airflow2-file-trigger-set"],
)
def test_the_scheduler_creates_the_runs_of_a_dst_week(
    home: Home, monkeypatch: pytest.MonkeyPatch, source: str, setting: str, expected: list[tuple[str, str]]
) -> None:
    monkeypatch.setenv("TRADEWIND__SCHEDULER__CREATE_CRON_DATA_INTERVALS", setting)
    home.store("dst_week.py", source)
    scheduler = home.scheduler()
    scheduler.refresh_dags()

    scheduler.create_scheduled_runs()

    assert home.runs("dst_week") == [
        (f"scheduled__{utc(start).isoformat()}", start, start, end) for start, end in expected
    ]
    assert scheduler.log.getvalue().count("created run") == 6  # type: ignore[attr-defined]
    scheduler.create_scheduled_runs()  # the end date is reached: nothing more, and no run twice
    assert len(home.runs("dst_week")) == 6
    assert "dst_week" not in scheduler._due_at


@pytest.mark.parametrize(
    ("source", "interval"),
    [(AIRFLOW2, ("10-25T00:00", "10-26T01:00")), (AIRFLOW3, ("10-26T05:00", "10-26T05:00"))],
    ids=["data-intervals", "trigger"],
)
def test_a_manual_run_in_the_dst_week(home: Home, source: str, interval: tuple[str, str]) -> None:
    home.store("dst_week.py", source)
    dag = home.gateway.get_dag("dst_week")
    context = home.gateway.create_manual_run(dag, utc("10-26T05:00"), {}, run_id="by_hand")
    assert (context.data_interval_start, context.data_interval_end) == (utc(interval[0]), utc(interval[1]))


def test_next_execution_lists_the_runs_the_scheduler_would_create(home: Home) -> None:
    home.store("dst_week.py", AIRFLOW3)
    dag = home.gateway.get_dag("dst_week")
    infos, paused = home.gateway.next_runs(dag, 10)
    assert [i.logical_date for i in infos] == [utc(f) for f in FIRES]  # the end date stops it at six
    assert not paused
    scheduler = home.scheduler()
    scheduler.refresh_dags()
    scheduler.create_scheduled_runs()
    assert home.gateway.next_runs(dag, 3) == ([], False)


CUSTOM = """
    from datetime import datetime, timedelta, timezone
    from airflow.sdk import DAG
    from airflow.timetables.base import DagRunInfo, DataInterval, Timetable
    from airflow.providers.standard.operators.empty import EmptyOperator


    class EveryOtherDay(Timetable):
        def infer_manual_data_interval(self, *, run_after):
            return DataInterval(run_after - timedelta(days=2), run_after)

        def next_dagrun_info(self, *, last_automated_data_interval, restriction):
            if last_automated_data_interval is None:
                if restriction.earliest is None:
                    return None
                start = restriction.earliest
            else:
                start = last_automated_data_interval.end
            if restriction.latest is not None and start > restriction.latest:
                return None
            return DagRunInfo.interval(start, start + timedelta(days=2))


    with DAG("every_other_day", start_date=datetime(2025, 10, 1, tzinfo=timezone.utc),
             end_date=datetime(2025, 10, 9, tzinfo=timezone.utc), schedule=EveryOtherDay(), catchup=True):
        EmptyOperator(task_id="load")
"""


@pytest.mark.slow  # the DAG processor imports the file in a child process
def test_a_users_own_timetable_is_scheduled_without_importing_its_file(home: Home) -> None:
    from tradewind.processor import DagProcessor

    path = home.dags_folder / "custom.py"
    path.write_text(textwrap.dedent(CUSTOM))
    DagProcessor(home.dags_folder, home.engine).run_once()
    scheduler = home.scheduler()
    scheduler.refresh_dags()

    scheduler.create_scheduled_runs()

    starts = ["10-01T00:00", "10-03T00:00", "10-05T00:00", "10-07T00:00", "10-09T00:00"]
    ends = [*starts[1:], "10-11T00:00"]
    assert home.runs("every_other_day") == [
        (f"scheduled__{utc(s).isoformat()}", s, s, e) for s, e in zip(starts, ends, strict=True)
    ]
    assert module_name_for(path) not in sys.modules  # only the processor's child imported it
    assert home.gateway.get_dag("every_other_day").timetable.type_name.endswith(".EveryOtherDay")


CONTINUOUS = """
    from datetime import datetime, timezone
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator

    with DAG("always", start_date=datetime(2025, 11, 1, tzinfo=timezone.utc), schedule="@continuous",
             max_active_runs=1, catchup=False):
        EmptyOperator(task_id="load")
"""


def test_continuous_creates_the_next_run_only_when_the_last_has_ended(home: Home) -> None:
    home.store("always.py", CONTINUOUS)
    scheduler = home.scheduler()
    scheduler.refresh_dags()
    before = datetime.now(UTC)

    scheduler.create_scheduled_runs()
    scheduler.create_scheduled_runs()

    [run] = home.gateway.list_runs("always")
    assert run.data_interval_start == utc("11-01T00:00")  # the first covers the time since the start date
    assert before <= run.data_interval_end <= datetime.now(UTC)
    assert "always" not in scheduler._due_at  # held by max_active_runs=1 until the run ends
