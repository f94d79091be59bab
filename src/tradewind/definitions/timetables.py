"""Schedules: what ``DAG(schedule=...)`` accepts, turned into timetable objects.

A timetable answers "which data interval does a run cover". Airflow's data-interval semantics
apply: a cron or timedelta schedule covers [start, end) and a manual run at ``run_after`` covers
the last complete interval before it. croniter is imported only when a cron schedule is used.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.errors import DagDefinitionError

CRON_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


@dataclass(frozen=True)
class DataInterval:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Restriction:
    """Where a DAG's scheduled runs may fall: its start and end dates, and whether missed
    intervals are caught up."""

    earliest: datetime | None
    latest: datetime | None
    catchup: bool


class Timetable:
    """Base: a schedule that never creates runs by itself (``schedule=None``)."""

    summary: str = "None"
    periodic: bool = False

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return DataInterval(run_after, run_after)

    def next_dagrun_info(self, last: DataInterval | None, when: Restriction, now: datetime) -> DataInterval | None:
        """The data interval of the next scheduled run after ``last`` (None: no more runs).
        The run is due once ``now >= interval.end``; its logical date is ``interval.start``."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.summary!r})"


class NullTimetable(Timetable):
    pass


class OnceTimetable(Timetable):
    summary = "@once"

    def next_dagrun_info(self, last: DataInterval | None, when: Restriction, now: datetime) -> DataInterval | None:
        if last is not None or when.earliest is None:
            return None
        return DataInterval(when.earliest, when.earliest)


class _PeriodicTimetable(Timetable):
    """Intervals laid end to end; subclasses say how to align a start and where an interval ends."""

    periodic = True

    def _first_start(self, earliest: datetime) -> datetime:
        return earliest

    def _newest_start(self, now: datetime) -> datetime:
        """Start of the last interval that has already ended at ``now`` (used without catchup)."""
        raise NotImplementedError

    def _continue_from(self, last: DataInterval) -> datetime:
        return last.end

    def _end_of(self, start: datetime) -> datetime:
        raise NotImplementedError

    def next_dagrun_info(self, last: DataInterval | None, when: Restriction, now: datetime) -> DataInterval | None:
        floor = self._first_start(when.earliest) if when.earliest is not None else None
        if not when.catchup:
            newest = self._newest_start(now)
            floor = newest if floor is None else max(floor, newest)
        if last is None:
            if floor is None:
                return None
            start = floor
        else:
            start = self._continue_from(last)
            if floor is not None:
                start = max(start, floor)
        if when.latest is not None and start > when.latest:
            return None
        return DataInterval(start, self._end_of(start))


class CronDataIntervalTimetable(_PeriodicTimetable):
    """A cron expression evaluated in ``tz``; each run covers one cron period."""

    def __init__(self, expression: str, tz: Any = UTC) -> None:
        self.summary = expression
        self.expression = CRON_PRESETS.get(expression, expression)
        self.tz = tz
        self._validate()

    def _validate(self) -> None:
        if not _is_valid_cron(self.expression):
            raise DagDefinitionError(
                f"Invalid schedule {self.summary!r}: not a cron expression, preset "
                f"({', '.join(CRON_PRESETS)}, @once), timedelta or None"
            )

    def _iter(self, start: datetime, forward: bool) -> datetime:
        try:
            return _cron_step(self.expression, self.tz, start, forward)
        except TypeError:  # a time zone object that cannot be a cache key
            return _cron_step.__wrapped__(self.expression, self.tz, start, forward)

    def align_to_prev(self, moment: datetime) -> datetime:
        """``moment`` itself if it is on the schedule, else the schedule time just before it."""
        following = self._iter(moment, forward=True)
        previous = self._iter(following, forward=False)
        return moment if previous == moment else self._iter(moment, forward=False)

    def next_after(self, moment: datetime) -> datetime:
        return self._iter(moment, forward=True)

    def prev_before(self, moment: datetime) -> datetime:
        return self._iter(moment, forward=False)

    def align_to_next(self, moment: datetime) -> datetime:
        """``moment`` itself if it is on the schedule, else the schedule time just after it."""
        previous = self.prev_before(moment)
        return moment if self.next_after(previous) == moment else self.next_after(moment)

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        end = self.align_to_prev(run_after)
        return DataInterval(self.prev_before(end), end)

    def _first_start(self, earliest: datetime) -> datetime:
        return self.align_to_next(earliest)

    def _newest_start(self, now: datetime) -> datetime:
        return self.prev_before(self.align_to_prev(now))

    def _continue_from(self, last: DataInterval) -> datetime:
        return self.align_to_prev(last.end)

    def _end_of(self, start: datetime) -> datetime:
        return self.next_after(start)


@functools.lru_cache(maxsize=16384)
def _cron_step(expression: str, tz: Any, start: datetime, forward: bool) -> datetime:
    """The schedule time after (or before) ``start``. Cached: a scheduler asks the same question
    for every DAG of a factory that shares a schedule, at the same moment."""
    from croniter import croniter

    local = start.astimezone(tz) if hasattr(tz, "utcoffset") else start
    it = croniter(expression, local)
    found = it.get_next(datetime) if forward else it.get_prev(datetime)
    return found.astimezone(UTC)


@functools.lru_cache(maxsize=1024)
def _is_valid_cron(expression: str) -> bool:
    """croniter's check, once per distinct expression (a DAG factory repeats the same one)."""
    from croniter import croniter

    return bool(croniter.is_valid(expression))


class DeltaDataIntervalTimetable(_PeriodicTimetable):
    """Every ``delta``; each run covers one delta-long interval."""

    def __init__(self, delta: timedelta) -> None:
        if delta <= timedelta(0):
            raise DagDefinitionError(f"Invalid schedule {delta!r}: a timedelta schedule must be positive")
        self.delta = delta
        self.summary = str(delta)

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return DataInterval(run_after - self.delta, run_after)

    def _newest_start(self, now: datetime) -> datetime:
        return now - self.delta

    def _end_of(self, start: datetime) -> datetime:
        return start + self.delta


def timetable_for(schedule: object, tz: Any = UTC) -> Timetable:
    """Turn the value of ``DAG(schedule=...)`` into a timetable, or raise DagDefinitionError."""
    if schedule is None:
        return NullTimetable()
    if isinstance(schedule, Timetable):
        return schedule
    if isinstance(schedule, timedelta):
        return DeltaDataIntervalTimetable(schedule)
    if isinstance(schedule, str):
        if schedule == "@once":
            return OnceTimetable()
        return CronDataIntervalTimetable(schedule, tz)
    raise DagDefinitionError(
        f"Invalid schedule {schedule!r} of type {type(schedule).__name__}: use None, '@once', "
        "a cron preset such as '@daily', a cron expression, or a datetime.timedelta"
    )
