"""Airflow 2's semantics (and Airflow 3's with ``create_cron_data_intervals = True``): a run
covers one whole period and is created when the period has ended; its logical date is the
period's start. ``airflow.timetables.interval``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.definitions.timetables._cron import CRON_PRESETS, CronSteps, is_valid
from tradewind.definitions.timetables._zones import as_zone
from tradewind.definitions.timetables.base import BuiltinTimetable, DagRunInfo, DataInterval, TimeRestriction
from tradewind.errors import DagDefinitionError


def check_cron(expression: str, call: str) -> str:
    """The expression a preset stands for; a DagDefinitionError naming the call if it is not cron."""
    if not isinstance(expression, str):
        raise DagDefinitionError(f"{call}: the cron expression must be a string, got {expression!r}")
    resolved = CRON_PRESETS.get(expression, expression)
    if not is_valid(resolved):
        raise DagDefinitionError(
            f"Invalid schedule {expression!r} ({call}): not a cron expression, preset "
            f"({', '.join(CRON_PRESETS)}, @once, @continuous), timedelta or None"
        )
    return resolved


def check_delta(delta: Any, call: str) -> timedelta:
    if not isinstance(delta, timedelta):
        raise DagDefinitionError(
            f"{call}: expected a datetime.timedelta, got {delta!r} (dateutil's relativedelta is not supported)"
        )
    if delta <= timedelta(0):
        raise DagDefinitionError(f"Invalid schedule {delta!r} ({call}): a timedelta schedule must be positive")
    return delta


class _DataIntervalTimetable(BuiltinTimetable):
    def _skip_to_latest(self, earliest: datetime | None, now: datetime) -> datetime:
        raise NotImplementedError

    def align_to_next(self, moment: datetime) -> datetime:
        return moment

    def align_to_prev(self, moment: datetime) -> datetime:
        return moment

    def get_next(self, moment: datetime) -> datetime:
        raise NotImplementedError

    def next_run(self, last: DataInterval | None, restriction: TimeRestriction, now: datetime) -> DagRunInfo | None:
        earliest = restriction.earliest
        if not restriction.catchup:
            earliest = self._skip_to_latest(earliest, now)
        elif earliest is not None:
            earliest = self.align_to_next(earliest)
        if last is None:
            if earliest is None:
                return None
            start = earliest
        else:
            start = self.align_to_prev(last.end)  # a changed schedule lines up again here
            if earliest is not None:
                start = max(start, earliest)
            if start <= last.start:  # a coarser schedule fell back onto the last run
                start = self.get_next(start)
        if restriction.latest is not None and start > restriction.latest:
            return None
        return DagRunInfo.interval(start, self.get_next(start))


class CronDataIntervalTimetable(CronSteps, _DataIntervalTimetable):
    """``schedule="0 2 * * *"`` with data intervals: the run of the 25th covers [25th 02:00,
    26th 02:00) in ``timezone`` and is created at its end.

    >>> CronDataIntervalTimetable("0 2 * * *", timezone="Europe/Amsterdam")
    """

    def __init__(self, cron: str, timezone: Any = UTC) -> None:
        self._summary = cron
        self.expression = check_cron(cron, "CronDataIntervalTimetable()")
        self.tz = as_zone(timezone, "CronDataIntervalTimetable()")

    @property
    def summary(self) -> str:
        return self._summary

    def _skip_to_latest(self, earliest: datetime | None, now: datetime) -> datetime:
        # the newest whole period that has ended at ``now``; on a boundary, the one ending now
        last_start = self.get_prev(now)
        new_start = last_start if self.get_next(last_start) == now else self.get_prev(last_start)
        return new_start if earliest is None else max(new_start, self.align_to_next(earliest))

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        # the last whole period before ``run_after``
        end = self.align_to_prev(run_after)
        return DataInterval(self.get_prev(end), end)


class DeltaDataIntervalTimetable(_DataIntervalTimetable):
    """``schedule=timedelta(hours=6)`` with data intervals: each run covers six hours and is
    created at their end. Without catchup the periods are counted from the Unix epoch."""

    def __init__(self, delta: timedelta) -> None:
        self.delta = check_delta(delta, "DeltaDataIntervalTimetable()")

    @property
    def summary(self) -> str:
        return str(self.delta)

    def get_next(self, moment: datetime) -> datetime:
        return (moment + self.delta).astimezone(UTC)

    def get_prev(self, moment: datetime) -> datetime:
        return (moment - self.delta).astimezone(UTC)

    def _skip_to_latest(self, earliest: datetime | None, now: datetime) -> datetime:
        seconds = self.delta.total_seconds()
        stamp = now.timestamp()
        floored = datetime.fromtimestamp(stamp - stamp % seconds, UTC)
        new_start = self.get_prev(floored)
        return new_start if earliest is None else max(new_start, earliest)

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return DataInterval(self.get_prev(run_after), run_after)
