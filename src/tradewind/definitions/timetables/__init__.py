"""Schedules: what ``DAG(schedule=...)`` accepts, turned into Airflow's timetable classes.

A cron string or a timedelta has two meanings in Airflow: *data intervals* (Airflow 2; a run
covers a whole period and is created at its end, its logical date the period's start) and
*trigger* times (Airflow 3's default; a run fires at the schedule time, which is its logical
date). Which one a DAG gets is decided where its file is read (``ScheduleDefaults``, set by the
loader from the file and the configuration; see docs/adr/0008); a DAG built outside a DAG
file gets data intervals. A timetable object given as ``schedule=`` is used as it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from tradewind.definitions.timetables._cron import CRON_PRESETS
from tradewind.definitions.timetables.base import (
    DagRunInfo,
    DataInterval,
    Restriction,
    TimeRestriction,
    Timetable,
)
from tradewind.definitions.timetables.interval import (
    CronDataIntervalTimetable,
    DeltaDataIntervalTimetable,
    check_cron,
    check_delta,
)
from tradewind.definitions.timetables.simple import ContinuousTimetable, EventsTimetable, NullTimetable, OnceTimetable
from tradewind.definitions.timetables.trigger import (
    CronTriggerTimetable,
    DeltaTriggerTimetable,
    MultipleCronTriggerTimetable,
)
from tradewind.errors import DagDefinitionError

__all__ = [
    "CRON_PRESETS",
    "ContinuousTimetable",
    "CronDataIntervalTimetable",
    "CronTriggerTimetable",
    "DagRunInfo",
    "DataInterval",
    "DeltaDataIntervalTimetable",
    "DeltaTriggerTimetable",
    "EventsTimetable",
    "MultipleCronTriggerTimetable",
    "NullTimetable",
    "OnceTimetable",
    "Restriction",
    "ScheduleDefaults",
    "TimeRestriction",
    "Timetable",
    "current_schedule_defaults",
    "timetable_for",
    "use_schedule_defaults",
]


@dataclass(frozen=True)
class ScheduleDefaults:
    """Which meaning a cron string and a timedelta get in the file being read.

    ``forced``: set in the configuration, so it holds for ``schedule_interval=`` too (as
    Airflow's ``[scheduler] create_cron_data_intervals`` does); otherwise ``schedule_interval=``,
    an Airflow 2 argument, always means data intervals. ``why`` is shown by ``dags list``.
    ``airflow3``: the file is written for Airflow 3 (whatever the settings say), so a manual run
    of its DAGs triggered without a logical date gets none, as in Airflow 3."""

    cron_data_intervals: bool = True
    delta_data_intervals: bool = True
    forced: bool = False
    why: str = "not read from a DAG file"
    airflow3: bool = False


_current: list[ScheduleDefaults] = [ScheduleDefaults()]


@contextlib.contextmanager
def use_schedule_defaults(defaults: ScheduleDefaults) -> Iterator[None]:
    """While a DAG file is imported: the meaning its DAGs' schedules get."""
    _current.append(defaults)
    try:
        yield
    finally:
        _current.pop()


def current_schedule_defaults() -> ScheduleDefaults:
    """What the file being imported was written for (the defaults outside a DAG file)."""
    return _current[-1]


def timetable_for(schedule: object, tz: Any = UTC, *, schedule_interval: bool = False) -> Timetable:
    """Turn the value of ``DAG(schedule=...)`` into a timetable, or raise DagDefinitionError.
    ``schedule_interval``: the value came as ``schedule_interval=`` (Airflow 2's argument)."""
    if schedule is None:
        return NullTimetable()
    if isinstance(schedule, Timetable):
        return schedule
    defaults = _current[-1]
    if schedule_interval and not defaults.forced:
        defaults = ScheduleDefaults(why="schedule_interval= (an Airflow 2 argument)")
    if isinstance(schedule, timedelta):
        check_delta(schedule, "DAG(schedule=...)")
        timetable: Timetable = (
            DeltaDataIntervalTimetable(schedule) if defaults.delta_data_intervals else DeltaTriggerTimetable(schedule)
        )
    elif isinstance(schedule, str):
        if schedule == "@once":
            return OnceTimetable()
        if schedule == "@continuous":
            return ContinuousTimetable()
        check_cron(schedule, "DAG(schedule=...)")
        timetable = (
            CronDataIntervalTimetable(schedule, tz)
            if defaults.cron_data_intervals
            else CronTriggerTimetable(schedule, timezone=tz)
        )
    else:
        raise DagDefinitionError(
            f"Invalid schedule {schedule!r} of type {type(schedule).__name__}: use None, '@once', '@continuous', "
            "a cron preset such as '@daily', a cron expression, a datetime.timedelta or a timetable "
            "(e.g. CronTriggerTimetable('0 2 * * *', timezone='UTC'))"
        )
    timetable.chosen_by = defaults.why
    return timetable
