"""Schedules follow Airflow's data-interval semantics: which interval the next run covers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pendulum
import pytest

from tradewind.definitions.timetables import DataInterval, Restriction, timetable_for


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2025, 7, day, hour, minute, tzinfo=UTC)


def test_daily_with_catchup_starts_at_start_date_and_walks_forward() -> None:
    daily = timetable_for("@daily")
    first = daily.next_dagrun_info(None, Restriction(at(1), None, True), at(5, 10))
    assert first == DataInterval(at(1), at(2))
    second = daily.next_dagrun_info(first, Restriction(at(1), None, True), at(5, 10))
    assert second == DataInterval(at(2), at(3))


def test_daily_without_catchup_runs_only_the_latest_complete_interval() -> None:
    daily = timetable_for("@daily")
    assert daily.next_dagrun_info(None, Restriction(at(1), None, False), at(5, 10)) == DataInterval(at(4), at(5))


def test_start_date_between_ticks_is_aligned_to_the_next_tick() -> None:
    daily = timetable_for("@daily")
    assert daily.next_dagrun_info(None, Restriction(at(1, 10, 30), None, True), at(5)) == DataInterval(at(2), at(3))


def test_end_date_stops_the_schedule() -> None:
    daily = timetable_for("@daily")
    last = DataInterval(at(2), at(3))
    assert daily.next_dagrun_info(last, Restriction(at(1), at(2, 12), True), at(9)) is None


def test_cron_expression_in_a_timezone() -> None:
    tz = pendulum.timezone("Europe/Paris")
    hourly = timetable_for("0 6 * * *", tz)
    info = hourly.next_dagrun_info(None, Restriction(at(1), None, True), at(5))
    assert info == DataInterval(datetime(2025, 7, 1, 4, tzinfo=UTC), datetime(2025, 7, 2, 4, tzinfo=UTC))


def test_timedelta_schedule() -> None:
    every_six_hours = timetable_for(timedelta(hours=6))
    first = every_six_hours.next_dagrun_info(None, Restriction(at(1), None, True), at(2))
    assert first == DataInterval(at(1), at(1, 6))
    assert every_six_hours.next_dagrun_info(first, Restriction(at(1), None, True), at(2)) == (
        DataInterval(at(1, 6), at(1, 12))
    )


def test_once_runs_one_time_at_start_date() -> None:
    once = timetable_for("@once")
    first = once.next_dagrun_info(None, Restriction(at(1), None, True), at(5))
    assert first == DataInterval(at(1), at(1))
    assert once.next_dagrun_info(first, Restriction(at(1), None, True), at(5)) is None


@pytest.mark.parametrize("schedule", [None, "@once", "@hourly", "*/5 * * * *", timedelta(days=1)])
def test_manual_runs_have_a_data_interval(schedule) -> None:
    interval = timetable_for(schedule).infer_manual_data_interval(at(2))
    assert interval.end <= at(2) and interval.start <= interval.end


def test_no_schedule_never_creates_runs() -> None:
    assert timetable_for(None).next_dagrun_info(None, Restriction(at(1), None, True), at(9)) is None
