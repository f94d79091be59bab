"""Cron arithmetic in a time zone, with Airflow's answers at daylight-saving changes.

croniter works on naive wall-clock times. A time that a DST change skips (02:30 on the night
clocks go forward) is taken as the same offset past the change (03:30, the moment it would have
been); a time that happens twice (02:30 on the night clocks go back) is taken the *second* time,
so a daily run is not created twice. A schedule that fires every hour (the hour field is ``*``)
steps by elapsed time instead, so it keeps firing hourly through the repeated hour.
croniter is imported only when a cron schedule is used.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

CRON_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


def make_naive(moment: datetime, tz: tzinfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None, fold=0)


def localize(naive: datetime, tz: tzinfo) -> datetime:
    """The moment the wall-clock time ``naive`` means in ``tz``: the later of two (clocks going
    back), or the moment as far past the change as ``naive`` is (clocks going forward)."""
    later = naive.replace(tzinfo=tz, fold=1)
    if make_naive(later.astimezone(UTC), tz) == naive:
        return later
    return naive.replace(tzinfo=tz, fold=0)  # in a gap: the offset from before the change


def _step(expression: str, tz: tzinfo, current: datetime, forward: bool) -> datetime:
    from croniter import croniter

    naive = make_naive(current, tz)
    it = croniter(expression, naive)
    found = it.get_next(datetime) if forward else it.get_prev(datetime)
    if it.expanded[1] != ["*"]:
        return localize(found, tz).astimezone(UTC)
    # fires every hour: move by the elapsed time croniter found (days by the calendar)
    delta = found - naive if forward else naive - found
    sign = 1 if forward else -1
    base = current
    if delta.days:
        base = localize(naive + sign * timedelta(days=delta.days), tz)
    return base.astimezone(UTC) + sign * timedelta(seconds=delta.seconds, microseconds=delta.microseconds)


@functools.lru_cache(maxsize=16384)
def _cached_step(expression: str, tz: tzinfo, current: datetime, forward: bool) -> datetime:
    """Cached: a scheduler asks the same question for every DAG of a factory that shares a
    schedule, at the same moment."""
    return _step(expression, tz, current, forward)


def step(expression: str, tz: tzinfo, current: datetime, forward: bool) -> datetime:
    """The schedule time after (``forward``) or before ``current``, in UTC."""
    try:
        return _cached_step(expression, tz, current, forward)
    except TypeError:  # a time zone object that cannot be a cache key
        return _step(expression, tz, current, forward)


@functools.lru_cache(maxsize=1024)
def is_valid(expression: str) -> bool:
    """croniter's check, once per distinct expression (a DAG factory repeats the same one)."""
    from croniter import croniter

    return bool(croniter.is_valid(expression))


class CronSteps:
    """A cron expression in a time zone, and the four moves timetables make with it."""

    expression: str
    tz: Any

    def get_next(self, moment: datetime) -> datetime:
        return step(self.expression, self.tz, moment, forward=True)

    def get_prev(self, moment: datetime) -> datetime:
        return step(self.expression, self.tz, moment, forward=False)

    def align_to_next(self, moment: datetime) -> datetime:
        """``moment`` if it is on the schedule, else the schedule time after it."""
        following = self.get_next(moment)
        return following if self.get_prev(following) != moment else moment

    def align_to_prev(self, moment: datetime) -> datetime:
        """``moment`` if it is on the schedule, else the schedule time before it."""
        previous = self.get_prev(moment)
        return previous if self.get_next(previous) != moment else moment
