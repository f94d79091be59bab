"""The scheduled runs of a DAG: what the scheduler, backfills and ``dags next-execution`` ask
of its timetable. Built-in timetables answer for the moment given; a user's own timetable
reached the scheduler as the runs the DAG processor computed (see adr/0008)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from tradewind.definitions.timetables import DagRunInfo, DataInterval, TimeRestriction, Timetable
from tradewind.errors import TradewindError


def next_run(
    timetable: Timetable, last: DataInterval | None, restriction: TimeRestriction, now: datetime
) -> DagRunInfo | None:
    """The run after ``last`` (None: no more), as seen at ``now``. A timetable that does not move
    forward is an error naming it, not a loop."""
    info = timetable.next_run(last, restriction, now)
    if info is not None and last is not None and info.data_interval.start <= last.start:
        raise TradewindError(
            f"timetable {timetable!r} gave a run at {info.data_interval.start.isoformat()} after the run "
            f"at {last.start.isoformat()}: its next_dagrun_info does not move forward"
        )
    return info


def iter_runs(
    timetable: Timetable, restriction: TimeRestriction, now: datetime, last: DataInterval | None = None
) -> Iterator[DagRunInfo]:
    """The runs after ``last``, one after another, as a scheduler that is never late would create
    them (the caller stops reading)."""
    while True:
        info = next_run(timetable, last, restriction, now)
        if info is None:
            return
        yield info
        last = info.data_interval
        # a run that has not come yet: the ones after it are asked as of its own time
        now = max(now, info.run_after)
