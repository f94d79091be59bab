"""The value types every timetable speaks, and the base class a user's own timetable extends.

The names and call signatures are Airflow's (``airflow.timetables.base``), so a ``Timetable``
subclass written for Airflow works unchanged. Built-in timetables also answer with an explicit
``now`` (``next_run``): the scheduler and the tests say what time it is, nothing reads the clock
behind their back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple


class DataInterval(NamedTuple):
    """The span of data a run covers; both ends timezone-aware."""

    start: datetime
    end: datetime

    @classmethod
    def exact(cls, at: datetime) -> DataInterval:
        return cls(at, at)


class TimeRestriction(NamedTuple):
    """Where a DAG's scheduled runs may fall: start and end date (both inclusive), and whether
    missed runs are caught up."""

    earliest: datetime | None
    latest: datetime | None
    catchup: bool


Restriction = TimeRestriction  # tradewind's older name


class DagRunInfo(NamedTuple):
    """A run a timetable asks for: when it may be created (``run_after``) and what it covers.
    Its logical date is the start of its data interval, as in Airflow."""

    run_after: datetime
    data_interval: DataInterval

    @classmethod
    def exact(cls, at: datetime) -> DagRunInfo:
        return cls(at, DataInterval(at, at))

    @classmethod
    def interval(cls, start: datetime, end: datetime) -> DagRunInfo:
        """A run over [start, end], created once ``end`` has come."""
        return cls(end, DataInterval(start, end))

    @property
    def logical_date(self) -> datetime:
        return self.data_interval.start


def utcnow() -> datetime:
    return datetime.now(UTC)


class Timetable:
    """Base of every timetable, and of a user's own (Airflow's protocol): override
    ``next_dagrun_info`` and ``infer_manual_data_interval``.

    >>> class Weekdays(Timetable):
    ...     def next_dagrun_info(self, *, last_automated_data_interval, restriction): ...
    ...     def infer_manual_data_interval(self, *, run_after): ...
    """

    description: str = ""
    periodic: bool = True
    can_be_scheduled: bool = True
    run_ordering: tuple[str, ...] = ("data_interval_end", "logical_date")
    active_runs_limit: int | None = None
    # how this timetable was chosen for a schedule value (the file's Airflow version, a setting);
    # set by ``timetable_for``, shown by ``dags list``/``dags show``; not part of the schedule
    chosen_by: str = ""

    @property
    def summary(self) -> str:
        return type(self).__name__

    @property
    def type_name(self) -> str:
        return type(self).__name__

    def validate(self) -> None:
        return None

    def serialize(self) -> dict[str, Any]:
        return {}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls()

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        raise NotImplementedError(f"{type(self).__name__}.infer_manual_data_interval")

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        raise NotImplementedError(f"{type(self).__name__}.next_dagrun_info")

    def next_run(self, last: DataInterval | None, restriction: TimeRestriction, now: datetime) -> DagRunInfo | None:
        """The next scheduled run after ``last`` as seen at ``now`` (None: none). Built-in
        timetables answer for the ``now`` given; a user's own reads its own clock."""
        return self.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.summary!r})"


class BuiltinTimetable(Timetable):
    """A timetable of tradewind's own: Airflow's signatures read the clock, ``next_run`` takes it."""

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        return self.next_run(last_automated_data_interval, restriction, utcnow())

    def next_run(self, last: DataInterval | None, restriction: TimeRestriction, now: datetime) -> DagRunInfo | None:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        mine, theirs = dict(vars(self)), dict(vars(other))
        mine.pop("chosen_by", None), theirs.pop("chosen_by", None)
        return mine == theirs

    def __hash__(self) -> int:
        return hash(type(self).__name__)
