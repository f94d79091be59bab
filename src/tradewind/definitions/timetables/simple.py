"""Timetables without a period: ``None``, ``"@once"``, ``"@continuous"`` and a list of events.
``airflow.timetables.simple`` and ``airflow.timetables.events``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from tradewind.definitions.timetables.base import BuiltinTimetable, DagRunInfo, DataInterval, TimeRestriction
from tradewind.errors import DagDefinitionError


class _Trivial(BuiltinTimetable):
    periodic = False

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return DataInterval.exact(run_after)


class NullTimetable(_Trivial):
    """``schedule=None``: runs only when triggered."""

    can_be_scheduled = False
    description = "Never, external triggers only"

    @property
    def summary(self) -> str:
        return "None"

    def next_run(self, last: DataInterval | None, restriction: TimeRestriction, now: datetime) -> DagRunInfo | None:
        return None


class OnceTimetable(_Trivial):
    """``schedule="@once"``: one run, at the start date (or at once without one)."""

    description = "Once, as soon as possible"

    @property
    def summary(self) -> str:
        return "@once"

    def next_run(self, last: DataInterval | None, restriction: TimeRestriction, now: datetime) -> DagRunInfo | None:
        if last is not None:
            return None
        at = restriction.earliest or now
        if restriction.latest is not None and at > restriction.latest:
            return None
        return DagRunInfo.exact(at)


class ContinuousTimetable(_Trivial):
    """``schedule="@continuous"``: a new run as soon as the last one ends (needs
    ``max_active_runs=1``); each covers the time since the previous one."""

    description = "As frequently as possible, but only one run at a time."
    active_runs_limit = 1

    @property
    def summary(self) -> str:
        return "@continuous"

    def next_run(self, last: DataInterval | None, restriction: TimeRestriction, now: datetime) -> DagRunInfo | None:
        start_date = restriction.earliest or now
        if last is None:
            start, end = start_date, max(start_date, now)
        elif last.end > now:  # the start date is in the future
            start, end = start_date, start_date + (last.end - last.start)
        else:
            start, end = last.end, now
        if restriction.latest is not None and end > restriction.latest:
            return None
        return DagRunInfo.interval(start, end)


class EventsTimetable(BuiltinTimetable):
    """Runs at the listed moments (each a run with an empty data interval).

    ``restrict_to_events=True``: a manual run takes the newest event before it (or the first).

    >>> EventsTimetable([datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 6, 14, tzinfo=UTC)])
    """

    def __init__(
        self,
        event_dates: Iterable[datetime],
        restrict_to_events: bool = False,
        presorted: bool = False,
        description: str | None = None,
    ) -> None:
        dates = []
        for moment in event_dates:
            if not isinstance(moment, datetime):
                raise DagDefinitionError(f"EventsTimetable(): event_dates must be datetimes, got {moment!r}")
            dates.append(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
        self.event_dates = dates if presorted else sorted(dates)
        self.restrict_to_events = restrict_to_events
        if description is None:
            first_last = (
                f" between {self.event_dates[0].isoformat()} and {self.event_dates[-1].isoformat()}"
                if self.event_dates
                else ""
            )
            self.description = f"{len(self.event_dates)} events{first_last}" if self.event_dates else "No events"
            self._summary = f"{len(self.event_dates)} events"
        else:
            self.description = self._summary = description

    @property
    def summary(self) -> str:
        return self._summary

    def next_run(self, last: DataInterval | None, restriction: TimeRestriction, now: datetime) -> DagRunInfo | None:
        earliest = restriction.earliest
        if not restriction.catchup and (earliest is None or now > earliest):
            earliest = now
        for event in self.event_dates:
            if earliest is not None and event < earliest:
                continue
            if last is not None and event <= last.end:
                continue
            if restriction.latest is not None and event > restriction.latest:
                return None
            return DagRunInfo.exact(event)
        return None

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        if not self.restrict_to_events or not self.event_dates:
            return DataInterval.exact(run_after)
        past = [event for event in self.event_dates if event <= run_after]
        return DataInterval.exact(past[-1] if past else self.event_dates[0])
