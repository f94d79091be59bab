"""The DAG processor asks a user's own timetable for its runs again before the runs it stored
run out (docs/adr/0008), without importing unchanged files otherwise. Time is the processor's
injected clock: a year passes without sleeping."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tradewind.definitions.timetables import TimeRestriction
from tradewind.processor import DagProcessor
from tradewind.scheduler.persistence import StoreGateway
from tradewind.store import dag_versions as dv
from tradewind.store import queries as q
from tradewind.store.engine import session_scope

pytestmark = pytest.mark.slow  # the processor imports each file in a child process

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

DAILY = """
    import os
    from datetime import datetime, timedelta, timezone
    from airflow.sdk import DAG
    from airflow.timetables.base import DagRunInfo, DataInterval, Timetable
    from airflow.providers.standard.operators.empty import EmptyOperator


    class Daily(Timetable):
        def infer_manual_data_interval(self, *, run_after):
            return DataInterval(run_after - timedelta(days=1), run_after)

        def next_dagrun_info(self, *, last_automated_data_interval, restriction):
            if os.environ.get("HOLIDAYS_DOWN"):
                raise RuntimeError("holiday calendar unreachable")
            if last_automated_data_interval is None:
                start = restriction.earliest
            else:
                start = last_automated_data_interval.end
            if restriction.latest is not None and start > restriction.latest:
                return None
            return DagRunInfo.interval(start, start + timedelta(days=1))


    with DAG("daily_own", start_date=datetime(2025, 12, 1, tzinfo=timezone.utc), schedule=Daily(),
             catchup=False, end_date=END):
        EmptyOperator(task_id="load")

    with DAG("plain_cron", start_date=datetime(2025, 12, 1, tzinfo=timezone.utc), schedule="@daily"):
        EmptyOperator(task_id="load")
"""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def dag_file(tmp_path: Path, end: str = "None") -> Path:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "own.py").write_text(textwrap.dedent(DAILY).replace("END", end), encoding="utf-8")
    (folder / "other.py").write_text("# a DAG file that never changes\nfrom tradewind import DAG\n", encoding="utf-8")
    return folder


def stored_runs(engine: Engine) -> tuple[int, datetime, datetime]:
    """The stored version of daily_own: its number, its first and its last precomputed run."""
    dag = StoreGateway(engine).get_dag("daily_own")
    runs = dag.timetable.runs  # type: ignore[attr-defined]
    with session_scope(engine) as session:
        [number] = [d.version_number for d in dv.changed_dags(session, None) if d.dag_id == "daily_own"]
    assert number is not None
    return number, runs[0].run_after, runs[-1].run_after


def refresh_after(engine: Engine, folder: Path) -> datetime | None:
    with session_scope(engine) as session:
        return dv.stored_files(session)[str(folder / "own.py")].refresh_after


def test_a_users_timetable_is_asked_again_before_its_stored_runs_run_out(engine: Engine, tmp_path: Path) -> None:
    folder = dag_file(tmp_path)
    clock = Clock(T0)
    processor = DagProcessor(folder, engine, clock=clock)
    processor.run_once()
    assert processor.imports == 2
    version, first, last = stored_runs(engine)
    assert (version, first, last) == (1, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 2, tzinfo=UTC))
    assert refresh_after(engine, folder) == T0 + (last - T0) / 2  # halfway to the end of the list

    clock.now = T0 + timedelta(days=150)  # the list still reaches seven months ahead
    processor.run_once()
    assert processor.imports == 2  # nothing imported

    clock.now = T0 + timedelta(days=200)  # past halfway: the file is imported again, unchanged
    processor.run_once()
    assert processor.imports == 3  # only the file with its own timetable
    version, first, last = stored_runs(engine)
    assert (version, first, last) == (2, datetime(2026, 7, 20, tzinfo=UTC), datetime(2027, 7, 21, tzinfo=UTC))
    assert refresh_after(engine, folder) == clock.now + (last - clock.now) / 2

    # a processor started later (a restart) knows when from the store, not from memory
    clock.now = T0 + timedelta(days=300)
    fresh = DagProcessor(folder, engine, clock=clock)
    fresh.run_once()
    assert fresh.imports == 0
    clock.now = T0 + timedelta(days=390)
    fresh.run_once()
    assert fresh.imports == 1
    assert stored_runs(engine)[2] == datetime(2028, 1, 27, tzinfo=UTC)
    # the scheduler finds the run of that day in the stored list
    timetable = StoreGateway(engine).get_dag("daily_own").timetable
    run = timetable.next_run(None, TimeRestriction(T0, None, False), clock.now)
    assert run is not None and run.logical_date == datetime(2027, 1, 25, tzinfo=UTC)


def test_a_users_timetable_that_has_ended_is_not_asked_again(engine: Engine, tmp_path: Path) -> None:
    folder = dag_file(tmp_path, end="datetime(2026, 3, 1, tzinfo=timezone.utc)")
    clock = Clock(T0)
    processor = DagProcessor(folder, engine, clock=clock)
    processor.run_once()
    assert refresh_after(engine, folder) is None
    assert stored_runs(engine)[2] == datetime(2026, 3, 2, tzinfo=UTC)

    clock.now = T0 + timedelta(days=800)
    processor.run_once()
    assert processor.imports == 2  # each file once, at the start


def test_a_refresh_that_fails_keeps_the_runs_and_is_tried_again_an_hour_later(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = dag_file(tmp_path)
    clock = Clock(T0)
    processor = DagProcessor(folder, engine, clock=clock)
    processor.run_once()
    before = stored_runs(engine)

    clock.now = T0 + timedelta(days=200)
    monkeypatch.setenv("HOLIDAYS_DOWN", "1")  # what the timetable reads is unavailable
    processor.run_once()
    assert processor.imports == 3
    assert stored_runs(engine) == before  # the DAG keeps the runs it had
    assert refresh_after(engine, folder) == clock.now + timedelta(hours=1)
    with session_scope(engine) as session:
        [error] = [e.error for e in q.list_import_errors(session)]
    assert "timetable " in error and "Daily: next_dagrun_info" in error
    assert "RuntimeError: holiday calendar unreachable" in error

    clock.now += timedelta(minutes=30)
    processor.run_once()
    assert processor.imports == 3  # not before the hour is up
    monkeypatch.delenv("HOLIDAYS_DOWN")
    clock.now += timedelta(minutes=31)
    processor.run_once()
    assert processor.imports == 4
    version, _, last = stored_runs(engine)
    assert (version, last) == (2, datetime(2027, 7, 21, tzinfo=UTC))
    assert refresh_after(engine, folder) == clock.now + (last - clock.now) / 2
    with session_scope(engine) as session:
        assert list(q.list_import_errors(session)) == []
