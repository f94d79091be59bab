"""Airflow 3's default semantics for a cron string or a timedelta: a run fires at the schedule
time, like cron; its logical date is that time and its data interval is empty (or
``interval=`` long, ending then). ``airflow.timetables.trigger``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.definitions.timetables._cron import CronSteps
from tradewind.definitions.timetables._zones import as_zone
from tradewind.definitions.timetables.base import (
    BuiltinTimetable,
    DagRunInfo,
    DataInterval,
    TimeRestriction,
)
from tradewind.definitions.timetables.interval import check_cron, check_delta
from tradewind.errors import DagDefinitionError


def _check_interval(interval: Any, call: str) -> timedelta:
    if not isinstance(interval, timedelta) or interval < timedelta(0):
        raise DagDefinitionError(f"{call}: interval= must be a timedelta of zero or more, got {interval!r}")
    return interval


def _check_run_immediately(value: Any, call: str) -> bool | timedelta | None:
    if value is None or isinstance(value, (bool, timedelta)):
        return value
    raise DagDefinitionError(f"{call}: run_immediately= must be True, False, None or a timedelta, got {value!r}")


class _TriggerTimetable(BuiltinTimetable):
    interval: timedelta

    def get_next(self, moment: datetime) -> datetime:
        raise NotImplementedError

    def align_to_next(self, moment: datetime) -> datetime:
        return moment

    def align_to_prev(self, moment: datetime) -> datetime:
        return moment

    def _first_run(self, now: datetime) -> datetime:
        raise NotImplementedError

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return DataInterval((run_after - self.interval).astimezone(UTC), run_after)

    def next_run(self, last: DataInterval | None, restriction: TimeRestriction, now: datetime) -> DagRunInfo | None:
        if restriction.catchup:
            if last is not None:
                fire = self.get_next(last.end)
            elif restriction.earliest is None:
                fire = self._first_run(now)
            else:
                fire = self.align_to_next(restriction.earliest)
        else:
            # the newest schedule time that has come, unless the last run or the start date is later
            candidates = [self.align_to_prev(now)]
            if last is not None:
                candidates.append(self.get_next(last.end))
            elif restriction.earliest is None:
                candidates.append(self._first_run(now))
            if restriction.earliest is not None:
                candidates.append(self.align_to_next(restriction.earliest))
            fire = max(candidates)
        if restriction.latest is not None and restriction.latest < fire:
            return None
        return DagRunInfo.interval((fire - self.interval).astimezone(UTC), fire)


class CronTriggerTimetable(CronSteps, _TriggerTimetable):
    """Fire at each cron time in ``timezone``; the run's logical date is that time.

    ``interval=`` gives the run a data interval that long, ending at the fire time.
    ``run_immediately=`` decides, for a DAG without a start date, whether the first run is the
    schedule time just past (True; a timedelta: if it passed less than that ago; None: if less
    than a tenth of the period, at least five minutes, ago) or the next one (False).

    >>> CronTriggerTimetable("0 2 * * *", timezone="Europe/Amsterdam", interval=timedelta(hours=1))
    """

    def __init__(
        self,
        cron: str,
        *,
        timezone: Any,
        interval: timedelta = timedelta(),
        run_immediately: bool | timedelta | None = False,
    ) -> None:
        call = "CronTriggerTimetable()"
        self._summary = cron
        self.expression = check_cron(cron, call)
        self.tz = as_zone(timezone, call)
        self.interval = _check_interval(interval, call)
        self.run_immediately = _check_run_immediately(run_immediately, call)

    @property
    def summary(self) -> str:
        return self._summary

    def _first_run(self, now: datetime) -> datetime:
        past, following = self.align_to_prev(now), self.align_to_next(now)
        if self.run_immediately is True:
            return past
        if isinstance(self.run_immediately, timedelta):
            buffer = self.run_immediately
        elif self.run_immediately is None:
            buffer = max((following - past) / 10, timedelta(minutes=5))
        else:
            return following
        return past if now - past <= buffer else following


class DeltaTriggerTimetable(_TriggerTimetable):
    """Fire every ``delta``; the run's logical date is the fire time (``interval=``: as for
    CronTriggerTimetable). Without a start date the first run fires at once."""

    def __init__(self, delta: timedelta, *, interval: timedelta = timedelta()) -> None:
        call = "DeltaTriggerTimetable()"
        self.delta = check_delta(delta, call)
        self.interval = _check_interval(interval, call)

    @property
    def summary(self) -> str:
        return str(self.delta)

    def get_next(self, moment: datetime) -> datetime:
        return (moment + self.delta).astimezone(UTC)

    def _first_run(self, now: datetime) -> datetime:
        return now


class MultipleCronTriggerTimetable(BuiltinTimetable):
    """Fire at every time any of the cron expressions gives (once if several agree).

    >>> MultipleCronTriggerTimetable("0 6 * * *", "30 18 * * *", timezone="UTC")
    """

    def __init__(
        self,
        *crons: str,
        timezone: Any,
        interval: timedelta = timedelta(),
        run_immediately: bool | timedelta | None = False,
    ) -> None:
        if not crons:
            raise DagDefinitionError("MultipleCronTriggerTimetable(): give at least one cron expression")
        self.timetables = [
            CronTriggerTimetable(c, timezone=timezone, interval=interval, run_immediately=run_immediately)
            for c in crons
        ]

    @property
    def summary(self) -> str:
        return ", ".join(t.summary for t in self.timetables)

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return min((t.infer_manual_data_interval(run_after=run_after) for t in self.timetables), key=lambda i: i.start)

    def next_run(self, last: DataInterval | None, restriction: TimeRestriction, now: datetime) -> DagRunInfo | None:
        infos = [t.next_run(last, restriction, now) for t in self.timetables]
        found = [info for info in infos if info is not None]
        if not found:
            return None
        if restriction.catchup:
            return min(found, key=lambda info: info.logical_date)
        # without catchup: the newest that has come, else the soonest to come
        past = [info for info in found if info.logical_date <= now]
        if past:
            return max(past, key=lambda info: info.logical_date)
        return min(found, key=lambda info: info.logical_date)
