"""Timetables survive serialization: the scheduler reads each DAG's timetable from the JSON the
DAG processor stored, without user code, and gets the same runs. A user's own Timetable
subclass reaches it as the runs its file's import computed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tradewind.definitions import timetables as tt
from tradewind.definitions.dag import DAG
from tradewind.definitions.serialized import SerializedDAG, dag_hash, serialize_dag, serialize_with_hash
from tradewind.definitions.timetables import DagRunInfo, DataInterval, TimeRestriction, Timetable
from tradewind.definitions.timetables.serialization import (
    MAX_RUNS,
    precomputing_at,
    read_timetable,
    refresh_after,
    serialize_timetable,
)
from tradewind.errors import DagDefinitionError

START = datetime(2025, 10, 20, tzinfo=UTC)
NOW = datetime(2025, 11, 5, 12, tzinfo=UTC)

BUILT_IN = [
    tt.CronDataIntervalTimetable("0 2 * * *", "Europe/Amsterdam"),
    tt.CronTriggerTimetable("0 2 * * *", timezone="Europe/Amsterdam", interval=timedelta(hours=1)),
    tt.CronTriggerTimetable("@hourly", timezone="UTC", run_immediately=timedelta(minutes=10)),
    tt.CronTriggerTimetable("@daily", timezone="America/New_York", run_immediately=None),
    tt.MultipleCronTriggerTimetable("0 6 * * *", "30 18 * * *", timezone="Europe/Amsterdam", run_immediately=True),
    tt.DeltaDataIntervalTimetable(timedelta(hours=6)),
    tt.DeltaTriggerTimetable(timedelta(days=1), interval=timedelta(hours=3)),
    tt.EventsTimetable(
        [START + timedelta(days=3), START + timedelta(days=9)], restrict_to_events=True, description="games"
    ),
    tt.ContinuousTimetable(),
    tt.OnceTimetable(),
    tt.NullTimetable(),
]


def first_runs(timetable: Timetable, catchup: bool, n: int = 5) -> list[DagRunInfo]:
    found, last = [], None
    for _ in range(n):
        info = timetable.next_run(last, TimeRestriction(START, None, catchup), NOW)
        if info is None:
            break
        found.append(info)
        last = info.data_interval
    return found


@pytest.mark.parametrize("timetable", BUILT_IN, ids=lambda t: type(t).__name__)
@pytest.mark.parametrize("catchup", [True, False])
def test_a_built_in_timetable_round_trips(timetable: Timetable, catchup: bool) -> None:
    node = json.loads(json.dumps(serialize_timetable(timetable)))
    again = read_timetable(node)
    assert again == timetable and type(again) is type(timetable)
    assert again.summary == timetable.summary
    assert first_runs(again, catchup) == first_runs(timetable, catchup)
    assert again.infer_manual_data_interval(run_after=NOW) == timetable.infer_manual_data_interval(run_after=NOW)


def test_a_stored_version_from_before_trigger_timetables_still_reads() -> None:
    assert read_timetable({"type": "cron", "expression": "@daily", "timezone": "UTC"}) == tt.CronDataIntervalTimetable(
        "@daily"
    )
    assert read_timetable({"type": "delta", "seconds": 3600.0}) == tt.DeltaDataIntervalTimetable(timedelta(hours=1))


def test_the_serialized_dag_says_which_timetable_and_why() -> None:
    dag = DAG("d", start_date=START, schedule="@daily")
    data = serialize_dag(dag)
    assert data["schedule"] == "@daily"
    assert data["timetable"] == {
        "type": "cron",
        "expression": "@daily",
        "timezone": 0.0,  # datetime.UTC has no name: its offset
        "chosen_by": "not read from a DAG file",
    }
    assert SerializedDAG(data).timetable.chosen_by == "not read from a DAG file"


class EveryOtherDay(Timetable):
    """A user's own timetable, as Airflow documents them."""

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        return DataInterval(run_after - timedelta(days=2), run_after)

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        if last_automated_data_interval is None:
            if restriction.earliest is None:
                return None
            start = restriction.earliest
        else:
            start = last_automated_data_interval.end
        if restriction.latest is not None and start > restriction.latest:
            return None
        return DagRunInfo.interval(start, start + timedelta(days=2))


def test_a_users_timetable_is_stored_as_the_runs_it_gives() -> None:
    dag = DAG("custom", start_date=START, end_date=START + timedelta(days=6), schedule=EveryOtherDay(), catchup=True)
    stored = SerializedDAG(json.loads(json.dumps(serialize_dag(dag))))
    assert stored.timetable.type_name == f"{__name__}.EveryOtherDay"
    assert stored.timetable.summary == "EveryOtherDay"
    runs = first_runs(stored.timetable, catchup=True, n=10)
    assert [(r.data_interval.start.day, r.data_interval.end.day) for r in runs] == [
        (20, 22),
        (22, 24),
        (24, 26),
        (26, 28),
    ]
    # without catchup the scheduler takes the newest run that has come
    later = TimeRestriction(START, None, catchup=False)
    assert stored.timetable.next_run(None, later, START + timedelta(days=5)) == runs[1]


def test_a_users_timetable_without_catchup_keeps_the_newest_past_run_and_the_future_ones() -> None:
    dag = DAG("custom", start_date=datetime(2020, 1, 1, tzinfo=UTC), schedule=EveryOtherDay(), catchup=False)
    node = serialize_dag(dag)["timetable"]
    starts = [datetime.fromisoformat(start) for _, start, _ in node["runs"]]
    now = datetime.now(UTC)
    assert starts[0] <= now - timedelta(days=2) < starts[1]  # the newest past run first
    assert starts[-1] > now + timedelta(days=360)  # and a year ahead


class EveryMinute(EveryOtherDay):
    def next_dagrun_info(self, *, last_automated_data_interval: Any, restriction: TimeRestriction) -> DagRunInfo:
        start = last_automated_data_interval.end if last_automated_data_interval else restriction.earliest
        return DagRunInfo.interval(start, start + timedelta(minutes=1))


@pytest.mark.parametrize(
    ("timetable", "end_date", "first_run_after", "last_run_after", "refresh"),
    [
        # a year ahead; asked again halfway there
        (EveryOtherDay(), None, "11-05T00:00", "2026-11-06T00:00", "2026-05-07T06:00"),
        # the timetable says it has no more runs: never asked again
        (EveryOtherDay(), START + timedelta(days=30), "11-05T00:00", "11-21T00:00", None),
        # more than MAX_RUNS in a year: the nearest are kept (the newest past one first)
        (EveryMinute(), None, "11-05T12:00", "11-12T10:39", "11-08T23:19:30"),
    ],
)
def test_a_users_timetable_keeps_the_nearest_runs_and_says_when_to_ask_again(
    timetable: Timetable, end_date: datetime | None, first_run_after: str, last_run_after: str, refresh: str | None
) -> None:
    def at(text: str) -> datetime:
        return datetime.fromisoformat(text if text.startswith("20") else f"2025-{text}").replace(tzinfo=UTC)

    dag = DAG("custom", start_date=START, end_date=end_date, schedule=timetable, catchup=False)
    with precomputing_at(NOW):
        node = serialize_dag(dag)["timetable"]
    runs = [datetime.fromisoformat(after) for after, _, _ in node["runs"]]
    assert len(runs) <= MAX_RUNS
    assert (runs[0], runs[-1]) == (at(first_run_after), at(last_run_after))
    assert refresh_after(node) == (at(refresh) if refresh else None)


def test_a_users_timetable_asked_again_for_the_same_runs_is_the_same_version() -> None:
    dag = DAG("custom", start_date=START, end_date=START + timedelta(days=6), schedule=EveryOtherDay(), catchup=True)
    with precomputing_at(NOW):
        first, first_hash = serialize_with_hash(dag)
    with precomputing_at(NOW + timedelta(days=3)):
        again, again_hash = serialize_with_hash(dag)
    assert first["timetable"]["computed_at"] != again["timetable"]["computed_at"]
    assert first_hash == again_hash == dag_hash(again)
    with precomputing_at(NOW + timedelta(days=3)):
        longer = serialize_with_hash(DAG("custom", start_date=START, schedule=EveryOtherDay(), catchup=True))[1]
    assert longer != first_hash


class Stuck(EveryOtherDay):
    def next_dagrun_info(self, *, last_automated_data_interval: Any, restriction: TimeRestriction) -> DagRunInfo:
        return DagRunInfo.exact(START)


class Broken(EveryOtherDay):
    def next_dagrun_info(self, *, last_automated_data_interval: Any, restriction: TimeRestriction) -> Any:
        raise KeyError("holidays")


@pytest.mark.parametrize(
    ("timetable", "message"),
    [
        (Stuck(), r"Stuck: next_dagrun_info\(\) did not move past the run of 2025-10-20T00:00:00\+00:00"),
        (Broken(), r"Broken: next_dagrun_info\(last_automated_data_interval=None\) raised KeyError: 'holidays'"),
    ],
)
def test_a_users_timetable_that_fails_is_a_definition_error(timetable: Timetable, message: str) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        serialize_dag(DAG("custom", start_date=START, schedule=timetable, catchup=True))
