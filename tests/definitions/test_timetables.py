"""Schedules give the runs Airflow 3.3 gives, in both meanings of a cron string or a timedelta:
data intervals (Airflow 2, ``create_cron_data_intervals = True``) and trigger times (Airflow 3's
default). Each row: a timetable, its start/end dates and catchup, the time the scheduler looks,
and the runs it creates as (run_after, data interval start, data interval end) in UTC.
The values were worked out from Airflow's timetable source and checked against Airflow 3.3.2."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tradewind.definitions.timetables import (
    ContinuousTimetable,
    CronDataIntervalTimetable,
    CronTriggerTimetable,
    DagRunInfo,
    DataInterval,
    DeltaDataIntervalTimetable,
    DeltaTriggerTimetable,
    EventsTimetable,
    MultipleCronTriggerTimetable,
    NullTimetable,
    OnceTimetable,
    TimeRestriction,
    Timetable,
    timetable_for,
)
from tradewind.errors import DagDefinitionError

AMS, NY = "Europe/Amsterdam", "America/New_York"


def z(text: str) -> datetime:
    """A moment: "2025-10-25T00:00" is UTC; an explicit offset is kept."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def runs(
    timetable: Timetable,
    start: str | None,
    now: str,
    *,
    catchup: bool = True,
    end: str | None = None,
    last: tuple[str, str] | None = None,
    n: int = 4,
) -> list[tuple[str, str, str] | None]:
    """The next ``n`` runs as a scheduler looking at ``now`` creates them (None: no more)."""
    restriction = TimeRestriction(z(start) if start else None, z(end) if end else None, catchup)
    previous = DataInterval(z(last[0]), z(last[1])) if last else None
    found: list[tuple[str, str, str] | None] = []
    for _ in range(n):
        info = timetable.next_run(previous, restriction, z(now))
        if info is None:
            found.append(None)
            break
        found.append(tuple(x.astimezone(UTC).strftime("%m-%dT%H:%M") for x in (info.run_after, *info.data_interval)))
        previous = info.data_interval
    return found


def cron(expression: str, tz: str = "UTC", **kwargs: Any) -> CronTriggerTimetable:
    return CronTriggerTimetable(expression, timezone=tz, **kwargs)


# -- the repeated and the skipped hour ------------------------------------------------------------

DST = [
    # Europe/Amsterdam goes back from 03:00 CEST to 02:00 CET on 26 October 2025: 02:00 happens
    # twice; a daily run takes the second one, so the run of the 25th lasts 25 hours
    (
        "data intervals, 02:00 Amsterdam, clocks go back",
        runs(CronDataIntervalTimetable("0 2 * * *", AMS), "2025-10-24T00:00+02:00", "2025-11-01T00:00"),
        [
            ("10-25T00:00", "10-24T00:00", "10-25T00:00"),
            ("10-26T01:00", "10-25T00:00", "10-26T01:00"),
            ("10-27T01:00", "10-26T01:00", "10-27T01:00"),
            ("10-28T01:00", "10-27T01:00", "10-28T01:00"),
        ],
    ),
    (
        "trigger, 02:00 Amsterdam, clocks go back",
        runs(cron("0 2 * * *", AMS), "2025-10-24T00:00+02:00", "2025-11-01T00:00"),
        [
            ("10-24T00:00", "10-24T00:00", "10-24T00:00"),
            ("10-25T00:00", "10-25T00:00", "10-25T00:00"),
            ("10-26T01:00", "10-26T01:00", "10-26T01:00"),
            ("10-27T01:00", "10-27T01:00", "10-27T01:00"),
        ],
    ),
    # 02:00 does not exist on 30 March 2025 (02:00 CET -> 03:00 CEST): the run fires at 03:00 CEST
    (
        "data intervals, 02:00 Amsterdam, clocks go forward",
        runs(CronDataIntervalTimetable("0 2 * * *", AMS), "2025-03-28T00:00+01:00", "2025-04-05T00:00"),
        [
            ("03-29T01:00", "03-28T01:00", "03-29T01:00"),
            ("03-30T01:00", "03-29T01:00", "03-30T01:00"),
            ("03-31T00:00", "03-30T01:00", "03-31T00:00"),
            ("04-01T00:00", "03-31T00:00", "04-01T00:00"),
        ],
    ),
    (
        "trigger, 02:00 Amsterdam, clocks go forward",
        runs(cron("0 2 * * *", AMS), "2025-03-28T00:00+01:00", "2025-04-05T00:00"),
        [
            ("03-28T01:00", "03-28T01:00", "03-28T01:00"),
            ("03-29T01:00", "03-29T01:00", "03-29T01:00"),
            ("03-30T01:00", "03-30T01:00", "03-30T01:00"),
            ("03-31T00:00", "03-31T00:00", "03-31T00:00"),
        ],
    ),
    # America/New_York goes back at 02:00 EDT on 2 November 2025: 01:30 happens twice
    (
        "data intervals, 01:30 New York, clocks go back",
        runs(CronDataIntervalTimetable("30 1 * * *", NY), "2025-11-01T00:00-04:00", "2025-11-10T00:00"),
        [
            ("11-02T06:30", "11-01T05:30", "11-02T06:30"),
            ("11-03T06:30", "11-02T06:30", "11-03T06:30"),
            ("11-04T06:30", "11-03T06:30", "11-04T06:30"),
            ("11-05T06:30", "11-04T06:30", "11-05T06:30"),
        ],
    ),
    (
        "trigger, 01:30 New York, clocks go back",
        runs(cron("30 1 * * *", NY), "2025-11-01T00:00-04:00", "2025-11-10T00:00"),
        [
            ("11-01T05:30", "11-01T05:30", "11-01T05:30"),
            ("11-02T06:30", "11-02T06:30", "11-02T06:30"),
            ("11-03T06:30", "11-03T06:30", "11-03T06:30"),
            ("11-04T06:30", "11-04T06:30", "11-04T06:30"),
        ],
    ),
    # 02:30 does not exist on 9 March 2025 in New York: the run of that day fires at 03:30 EDT
    (
        "data intervals, 02:30 New York, clocks go forward",
        runs(CronDataIntervalTimetable("30 2 * * *", NY), "2025-03-08T00:00-05:00", "2025-03-20T00:00", n=2),
        [("03-09T07:30", "03-08T07:30", "03-09T07:30"), ("03-10T06:30", "03-09T07:30", "03-10T06:30")],
    ),
    # a schedule that fires every hour keeps firing hourly through the repeated hour
    (
        "data intervals, hourly at :30, Amsterdam, clocks go back",
        runs(CronDataIntervalTimetable("30 * * * *", AMS), "2025-10-26T01:00+02:00", "2025-11-01T00:00", n=5),
        [
            ("10-26T00:30", "10-25T23:30", "10-26T00:30"),
            ("10-26T01:30", "10-26T00:30", "10-26T01:30"),
            ("10-26T02:30", "10-26T01:30", "10-26T02:30"),
            ("10-26T03:30", "10-26T02:30", "10-26T03:30"),
            ("10-26T04:30", "10-26T03:30", "10-26T04:30"),
        ],
    ),
    (
        "trigger, hourly at :30, Amsterdam, clocks go back",
        runs(cron("30 * * * *", AMS), "2025-10-26T01:00+02:00", "2025-11-01T00:00", n=4),
        [
            ("10-25T23:30", "10-25T23:30", "10-25T23:30"),
            ("10-26T00:30", "10-26T00:30", "10-26T00:30"),
            ("10-26T01:30", "10-26T01:30", "10-26T01:30"),
            ("10-26T02:30", "10-26T02:30", "10-26T02:30"),
        ],
    ),
    (
        "data intervals, hourly at :30, Amsterdam, clocks go forward",
        runs(CronDataIntervalTimetable("30 * * * *", AMS), "2025-03-30T01:00+01:00", "2025-04-01T00:00", n=3),
        [
            ("03-30T01:30", "03-30T00:30", "03-30T01:30"),
            ("03-30T02:30", "03-30T01:30", "03-30T02:30"),
            ("03-30T03:30", "03-30T02:30", "03-30T03:30"),
        ],
    ),
    # a timedelta is elapsed time: 24 hours across the change, not "the same time tomorrow"
    (
        "data intervals, one day, from 02:00 Amsterdam across the change",
        runs(DeltaDataIntervalTimetable(timedelta(days=1)), "2025-10-25T02:00+02:00", "2025-11-05T12:00", n=3),
        [
            ("10-26T00:00", "10-25T00:00", "10-26T00:00"),
            ("10-27T00:00", "10-26T00:00", "10-27T00:00"),
            ("10-28T00:00", "10-27T00:00", "10-28T00:00"),
        ],
    ),
    (
        "trigger, one day, from 02:00 Amsterdam across the change",
        runs(DeltaTriggerTimetable(timedelta(days=1)), "2025-10-25T02:00+02:00", "2025-11-05T12:00", n=3),
        [
            ("10-25T00:00", "10-25T00:00", "10-25T00:00"),
            ("10-26T00:00", "10-26T00:00", "10-26T00:00"),
            ("10-27T00:00", "10-27T00:00", "10-27T00:00"),
        ],
    ),
]


@pytest.mark.parametrize(("case", "found", "expected"), DST, ids=[row[0] for row in DST])
def test_daylight_saving_changes(case: str, found: list[Any], expected: list[Any]) -> None:
    assert found == expected


# -- catchup, start and end dates, a late scheduler -----------------------------------------------

EDGES = [
    # timedelta(days=1), catchup=False, a 10:30 start, looked at on 5 November at 12:00: data
    # intervals are counted from the epoch (midnight UTC), trigger times from now
    (
        "data intervals, one day, no catchup",
        runs(DeltaDataIntervalTimetable(timedelta(days=1)), "2025-11-01T10:30", "2025-11-05T12:00", catchup=False, n=2),
        [("11-05T00:00", "11-04T00:00", "11-05T00:00"), ("11-06T00:00", "11-05T00:00", "11-06T00:00")],
    ),
    (
        "trigger, one day, no catchup",
        runs(DeltaTriggerTimetable(timedelta(days=1)), "2025-11-01T10:30", "2025-11-05T12:00", catchup=False, n=2),
        [("11-05T12:00", "11-05T12:00", "11-05T12:00"), ("11-06T12:00", "11-06T12:00", "11-06T12:00")],
    ),
    (
        "data intervals, one day, catchup",
        runs(DeltaDataIntervalTimetable(timedelta(days=1)), "2025-11-01T10:30", "2025-11-05T12:00", n=2),
        [("11-02T10:30", "11-01T10:30", "11-02T10:30"), ("11-03T10:30", "11-02T10:30", "11-03T10:30")],
    ),
    (
        "trigger, one day, catchup",
        runs(DeltaTriggerTimetable(timedelta(days=1)), "2025-11-01T10:30", "2025-11-05T12:00", n=2),
        [("11-01T10:30", "11-01T10:30", "11-01T10:30"), ("11-02T10:30", "11-02T10:30", "11-02T10:30")],
    ),
    (
        "trigger, six hours, no start date: at once",
        runs(DeltaTriggerTimetable(timedelta(hours=6)), None, "2025-11-05T12:34", catchup=False, n=2),
        [("11-05T12:34", "11-05T12:34", "11-05T12:34"), ("11-05T18:34", "11-05T18:34", "11-05T18:34")],
    ),
    (
        "data intervals, daily, no catchup: the newest whole day",
        runs(CronDataIntervalTimetable("@daily"), "2025-11-01T00:00", "2025-11-05T12:00", catchup=False, n=2),
        [("11-05T00:00", "11-04T00:00", "11-05T00:00"), ("11-06T00:00", "11-05T00:00", "11-06T00:00")],
    ),
    (
        "data intervals, daily, no catchup, looked at on the boundary",
        runs(CronDataIntervalTimetable("@daily"), "2025-11-01T00:00", "2025-11-05T00:00", catchup=False, n=1),
        [("11-05T00:00", "11-04T00:00", "11-05T00:00")],
    ),
    (
        "trigger, daily, no catchup: today's midnight",
        runs(cron("@daily"), "2025-11-01T00:00", "2025-11-05T12:00", catchup=False, n=2),
        [("11-05T00:00", "11-05T00:00", "11-05T00:00"), ("11-06T00:00", "11-06T00:00", "11-06T00:00")],
    ),
    (
        "trigger, daily, catchup",
        runs(cron("@daily"), "2025-11-01T00:00", "2025-11-05T12:00", n=2),
        [("11-01T00:00", "11-01T00:00", "11-01T00:00"), ("11-02T00:00", "11-02T00:00", "11-02T00:00")],
    ),
    (
        "trigger, daily, end date: the run at the end date is the last",
        runs(cron("@daily"), "2025-11-01T00:00", "2025-11-05T12:00", end="2025-11-03T00:00"),
        [
            ("11-01T00:00", "11-01T00:00", "11-01T00:00"),
            ("11-02T00:00", "11-02T00:00", "11-02T00:00"),
            ("11-03T00:00", "11-03T00:00", "11-03T00:00"),
            None,
        ],
    ),
    (
        "data intervals, daily, end date: the interval starting at the end date is the last",
        runs(CronDataIntervalTimetable("@daily"), "2025-11-01T00:00", "2025-11-05T12:00", end="2025-11-03T00:00"),
        [
            ("11-02T00:00", "11-01T00:00", "11-02T00:00"),
            ("11-03T00:00", "11-02T00:00", "11-03T00:00"),
            ("11-04T00:00", "11-03T00:00", "11-04T00:00"),
            None,
        ],
    ),
    (
        "data intervals, start date in the future, between ticks",
        runs(CronDataIntervalTimetable("@daily"), "2025-12-01T10:00", "2025-11-05T12:00", catchup=False, n=1),
        [("12-03T00:00", "12-02T00:00", "12-03T00:00")],
    ),
    (
        "trigger, start date in the future, between ticks",
        runs(cron("@daily"), "2025-12-01T10:00", "2025-11-05T12:00", catchup=False, n=1),
        [("12-02T00:00", "12-02T00:00", "12-02T00:00")],
    ),
    # the scheduler was down from 3 to 9 November
    (
        "data intervals, late scheduler, no catchup: only the newest day",
        runs(
            CronDataIntervalTimetable("@daily"),
            "2025-11-01T00:00",
            "2025-11-09T12:00",
            catchup=False,
            last=("2025-11-02T00:00", "2025-11-03T00:00"),
            n=1,
        ),
        [("11-09T00:00", "11-08T00:00", "11-09T00:00")],
    ),
    (
        "data intervals, late scheduler, catchup: every missed day",
        runs(
            CronDataIntervalTimetable("@daily"),
            "2025-11-01T00:00",
            "2025-11-09T12:00",
            last=("2025-11-02T00:00", "2025-11-03T00:00"),
            n=2,
        ),
        [("11-04T00:00", "11-03T00:00", "11-04T00:00"), ("11-05T00:00", "11-04T00:00", "11-05T00:00")],
    ),
    (
        "trigger, late scheduler, no catchup: only the newest",
        runs(
            cron("@daily"),
            "2025-11-01T00:00",
            "2025-11-09T12:00",
            catchup=False,
            last=("2025-11-03T00:00", "2025-11-03T00:00"),
            n=1,
        ),
        [("11-09T00:00", "11-09T00:00", "11-09T00:00")],
    ),
    (
        "trigger, late scheduler, catchup: every missed one",
        runs(
            cron("@daily"), "2025-11-01T00:00", "2025-11-09T12:00", last=("2025-11-03T00:00", "2025-11-03T00:00"), n=2
        ),
        [("11-04T00:00", "11-04T00:00", "11-04T00:00"), ("11-05T00:00", "11-05T00:00", "11-05T00:00")],
    ),
    # run_immediately decides the first run of a DAG without a start date
    (
        "trigger, no start date, run_immediately=False: the next tick",
        runs(cron("@daily"), None, "2025-11-05T12:00", catchup=False, n=1),
        [("11-06T00:00", "11-06T00:00", "11-06T00:00")],
    ),
    (
        "trigger, no start date, run_immediately=True: the tick just past",
        runs(cron("@daily", run_immediately=True), None, "2025-11-05T12:00", catchup=False, n=1),
        [("11-05T00:00", "11-05T00:00", "11-05T00:00")],
    ),
    (
        "trigger, no start date, run_immediately=None, 4 minutes past the hour",
        runs(cron("@hourly", run_immediately=None), None, "2025-11-05T12:04", catchup=False, n=1),
        [("11-05T12:00", "11-05T12:00", "11-05T12:00")],
    ),
    (
        "trigger, no start date, run_immediately=None, 7 minutes past the hour",
        runs(cron("@hourly", run_immediately=None), None, "2025-11-05T12:07", catchup=False, n=1),
        [("11-05T13:00", "11-05T13:00", "11-05T13:00")],
    ),
    (
        "trigger, no start date, run_immediately=timedelta(hours=13)",
        runs(cron("@daily", run_immediately=timedelta(hours=13)), None, "2025-11-05T12:00", catchup=False, n=1),
        [("11-05T00:00", "11-05T00:00", "11-05T00:00")],
    ),
    # interval= gives a trigger run a data interval ending when it fires
    (
        "trigger with interval=1h, Amsterdam, clocks go back",
        runs(cron("0 2 * * *", AMS, interval=timedelta(hours=1)), "2025-10-24T00:00+02:00", "2025-11-01T00:00", n=3),
        [
            ("10-24T00:00", "10-23T23:00", "10-24T00:00"),
            ("10-25T00:00", "10-24T23:00", "10-25T00:00"),
            ("10-26T01:00", "10-26T00:00", "10-26T01:00"),
        ],
    ),
    (
        "several cron expressions, one run per distinct time",
        runs(
            MultipleCronTriggerTimetable("0 6 * * *", "30 18 * * *", "0 6 * * 1-5", timezone="UTC"),
            "2025-11-01T00:00",
            "2025-11-05T12:00",
        ),
        [
            ("11-01T06:00", "11-01T06:00", "11-01T06:00"),
            ("11-01T18:30", "11-01T18:30", "11-01T18:30"),
            ("11-02T06:00", "11-02T06:00", "11-02T06:00"),
            ("11-02T18:30", "11-02T18:30", "11-02T18:30"),
        ],
    ),
    (
        "several cron expressions, no catchup: the newest that has come",
        runs(
            MultipleCronTriggerTimetable("0 6 * * *", "30 18 * * *", timezone="UTC"),
            "2025-11-01T00:00",
            "2025-11-05T12:00",
            catchup=False,
            n=2,
        ),
        [("11-05T06:00", "11-05T06:00", "11-05T06:00"), ("11-05T18:30", "11-05T18:30", "11-05T18:30")],
    ),
]


@pytest.mark.parametrize(("case", "found", "expected"), EDGES, ids=[row[0] for row in EDGES])
def test_catchup_dates_and_late_schedulers(case: str, found: list[Any], expected: list[Any]) -> None:
    assert found == expected


# -- manual runs -----------------------------------------------------------------------------------

MANUAL = [
    # (timetable, triggered at, data interval)
    (CronDataIntervalTimetable("@daily"), "2025-07-02T10:30", ("2025-07-01T00:00", "2025-07-02T00:00")),
    (CronDataIntervalTimetable("@daily"), "2025-07-02T00:00", ("2025-07-01T00:00", "2025-07-02T00:00")),
    (CronDataIntervalTimetable("0 2 * * *", AMS), "2025-10-26T05:00", ("2025-10-25T00:00", "2025-10-26T01:00")),
    (cron("@daily"), "2025-07-02T10:30", ("2025-07-02T10:30", "2025-07-02T10:30")),
    (cron("@daily", interval=timedelta(hours=4)), "2025-07-02T10:30", ("2025-07-02T06:30", "2025-07-02T10:30")),
    (DeltaDataIntervalTimetable(timedelta(hours=6)), "2025-07-02T10:30", ("2025-07-02T04:30", "2025-07-02T10:30")),
    (DeltaTriggerTimetable(timedelta(hours=6)), "2025-07-02T10:30", ("2025-07-02T10:30", "2025-07-02T10:30")),
    (NullTimetable(), "2025-07-02T10:30", ("2025-07-02T10:30", "2025-07-02T10:30")),
    (OnceTimetable(), "2025-07-02T10:30", ("2025-07-02T10:30", "2025-07-02T10:30")),
    (ContinuousTimetable(), "2025-07-02T10:30", ("2025-07-02T10:30", "2025-07-02T10:30")),
    (
        EventsTimetable([z("2025-03-01T00:00"), z("2025-06-14T12:00")], restrict_to_events=True),
        "2025-07-02T10:30",
        ("2025-06-14T12:00", "2025-06-14T12:00"),
    ),
    (
        EventsTimetable([z("2025-03-01T00:00"), z("2025-06-14T12:00")], restrict_to_events=True),
        "2025-01-02T10:30",
        ("2025-03-01T00:00", "2025-03-01T00:00"),
    ),
    (EventsTimetable([z("2025-03-01T00:00")]), "2025-07-02T10:30", ("2025-07-02T10:30", "2025-07-02T10:30")),
]


@pytest.mark.parametrize(("timetable", "when", "expected"), MANUAL, ids=[f"{row[0]!r}@{row[1]}" for row in MANUAL])
def test_the_data_interval_of_a_manual_run(timetable: Timetable, when: str, expected: tuple[str, str]) -> None:
    interval = timetable.infer_manual_data_interval(run_after=z(when))
    assert interval == DataInterval(z(expected[0]), z(expected[1]))


# -- runs without a period -------------------------------------------------------------------------


def test_none_never_runs_and_once_runs_at_the_start_date() -> None:
    assert runs(NullTimetable(), "2025-11-01T00:00", "2025-11-05T00:00") == [None]
    assert runs(OnceTimetable(), "2025-11-01T10:00", "2025-11-05T00:00") == [
        ("11-01T10:00", "11-01T10:00", "11-01T10:00"),
        None,
    ]
    assert runs(OnceTimetable(), None, "2025-11-05T08:00", n=1) == [("11-05T08:00", "11-05T08:00", "11-05T08:00")]
    assert runs(OnceTimetable(), "2025-11-01T10:00", "2025-11-05T00:00", end="2025-10-01T00:00") == [None]


def test_continuous_runs_cover_the_time_since_the_last_one() -> None:
    continuous = ContinuousTimetable()
    first = continuous.next_run(None, TimeRestriction(z("2025-11-01T00:00"), None, True), z("2025-11-05T12:00"))
    assert first == DagRunInfo(z("2025-11-05T12:00"), DataInterval(z("2025-11-01T00:00"), z("2025-11-05T12:00")))
    after = DataInterval(z("2025-11-01T00:00"), z("2025-11-05T11:00"))
    second = continuous.next_run(after, TimeRestriction(z("2025-11-01T00:00"), None, True), z("2025-11-05T12:00"))
    assert second == DagRunInfo(z("2025-11-05T12:00"), DataInterval(z("2025-11-05T11:00"), z("2025-11-05T12:00")))
    ended = TimeRestriction(z("2025-11-01T00:00"), z("2025-11-05T00:00"), True)
    assert continuous.next_run(after, ended, z("2025-11-05T12:00")) is None


def test_events_run_at_each_listed_moment_once() -> None:
    events = EventsTimetable([z("2025-06-14T12:00"), z("2025-03-01T00:00"), z("2025-09-30T18:00")])
    assert events.summary == "3 events"
    assert runs(events, "2025-01-01T00:00", "2025-12-01T00:00") == [
        ("03-01T00:00", "03-01T00:00", "03-01T00:00"),
        ("06-14T12:00", "06-14T12:00", "06-14T12:00"),
        ("09-30T18:00", "09-30T18:00", "09-30T18:00"),
        None,
    ]
    # without catchup, events already past are skipped
    assert runs(events, "2025-01-01T00:00", "2025-07-01T00:00", catchup=False) == [
        ("09-30T18:00", "09-30T18:00", "09-30T18:00"),
        None,
    ]


# -- what DAG(schedule=...) becomes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "kind", "summary"),
    [
        (None, NullTimetable, "None"),
        ("@once", OnceTimetable, "@once"),
        ("@continuous", ContinuousTimetable, "@continuous"),
        ("@daily", CronDataIntervalTimetable, "@daily"),
        ("*/5 * * * *", CronDataIntervalTimetable, "*/5 * * * *"),
        (timedelta(hours=6), DeltaDataIntervalTimetable, "6:00:00"),
        (cron("@daily"), CronTriggerTimetable, "@daily"),
    ],
)
def test_schedule_values_outside_a_dag_file_get_data_intervals(schedule: object, kind: type, summary: str) -> None:
    timetable = timetable_for(schedule)
    assert type(timetable) is kind and timetable.summary == summary


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: timetable_for("every day"), r"Invalid schedule 'every day' \(DAG\(schedule=...\)\): not a cron"),
        (lambda: cron("61 * * * *"), r"Invalid schedule '61 \* \* \* \*' \(CronTriggerTimetable\(\)\)"),
        (lambda: cron("@daily", tz="Mars/Olympus"), r"timezone 'Mars/Olympus' is not a time zone name"),
        (lambda: cron("@daily", interval=5), r"CronTriggerTimetable\(\): interval= must be a timedelta"),
        (lambda: cron("@daily", run_immediately="yes"), r"run_immediately= must be True, False, None or a timedelta"),
        (
            lambda: DeltaTriggerTimetable(timedelta(0)),
            r"DeltaTriggerTimetable\(\)\): a timedelta schedule must be positive",
        ),
        (lambda: MultipleCronTriggerTimetable(timezone="UTC"), r"give at least one cron expression"),
        (lambda: EventsTimetable(["2025-01-01"]), r"event_dates must be datetimes, got '2025-01-01'"),
        (lambda: timetable_for(5), r"Invalid schedule 5 of type int"),
    ],
)
def test_bad_timetable_arguments_name_the_call_and_the_fix(call: Any, message: str) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        call()
