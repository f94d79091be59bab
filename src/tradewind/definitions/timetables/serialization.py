"""Timetables as JSON, for serialized DAGs (the scheduler reads them without user code).

Every built-in timetable round-trips. A user's own ``Timetable`` subclass lives in user code,
which the scheduler never imports: the DAG processor's child, which imported the file, asks it
for its runs from the start date to a year ahead and stores them (``PrecomputedTimetable``)
with the time the processor should ask again (``refresh_after``); see docs/adr/0008. Cron and
timedelta data-interval nodes keep the shape they had before trigger timetables existed, so
stored versions keep their hash.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from tradewind.definitions.timetables._zones import read_zone, zone_name
from tradewind.definitions.timetables.base import (
    BuiltinTimetable,
    DagRunInfo,
    DataInterval,
    TimeRestriction,
    Timetable,
    utcnow,
)
from tradewind.definitions.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
from tradewind.definitions.timetables.simple import ContinuousTimetable, EventsTimetable, NullTimetable, OnceTimetable
from tradewind.definitions.timetables.trigger import (
    CronTriggerTimetable,
    DeltaTriggerTimetable,
    MultipleCronTriggerTimetable,
)
from tradewind.errors import DagDefinitionError

HORIZON = timedelta(days=366)  # how far ahead a user's timetable is asked for runs
MAX_RUNS = 10_000  # runs stored for a user's timetable
MAX_ASKS = 200_000  # calls of its next_dagrun_info while they are computed
MIN_REFRESH = timedelta(hours=1)  # the soonest the processor asks such a timetable again

_clock: list[datetime | None] = []


@contextmanager
def precomputing_at(now: datetime | None) -> Iterator[None]:
    """While DAGs are serialised: the time a user's own timetable is asked from (the DAG
    processor passes its clock to the child that imports the file; None: the real time)."""
    _clock.append(now)
    try:
        yield
    finally:
        _clock.pop()


def refresh_after(node: dict[str, Any]) -> datetime | None:
    """When the runs stored in a serialized timetable node should be computed again (None:
    never; only a user's own timetable is precomputed)."""
    when = node.get("refresh_after") if node.get("type") == "custom" else None
    return datetime.fromisoformat(when) if when else None


def _run_immediately(value: bool | timedelta | None) -> bool | float | None:
    return value.total_seconds() if isinstance(value, timedelta) else value


def _read_run_immediately(value: bool | float | None) -> bool | timedelta | None:
    if value is None or isinstance(value, bool):
        return value
    return timedelta(seconds=value)


def _info(info: DagRunInfo) -> list[str]:
    return [info.run_after.isoformat(), info.data_interval.start.isoformat(), info.data_interval.end.isoformat()]


TYPE_NAMES = {
    "cron": "CronDataIntervalTimetable",
    "delta": "DeltaDataIntervalTimetable",
    "cron_trigger": "CronTriggerTimetable",
    "delta_trigger": "DeltaTriggerTimetable",
    "multiple_cron_trigger": "MultipleCronTriggerTimetable",
    "events": "EventsTimetable",
    "continuous": "ContinuousTimetable",
    "once": "OnceTimetable",
    "none": "NullTimetable",
}


def type_name(kind: str | None, class_name: str | None = None) -> str:
    """The timetable class a serialized node stands for (a user's own: its dotted name)."""
    return class_name or TYPE_NAMES.get(kind or "none", str(kind))


def serialize_timetable(timetable: Timetable, restriction: TimeRestriction | None = None) -> dict[str, Any]:
    """The JSON form of ``timetable``. ``restriction`` (the DAG's dates) bounds the runs a user's
    own timetable is asked for. How a cron string or timedelta got its meaning is kept too."""
    node = _node(timetable, restriction)
    if timetable.chosen_by:
        node["chosen_by"] = timetable.chosen_by
    return node


def _node(timetable: Timetable, restriction: TimeRestriction | None) -> dict[str, Any]:
    t = timetable
    if isinstance(t, CronDataIntervalTimetable):
        return {"type": "cron", "expression": t.summary, "timezone": zone_name(t.tz)}
    if isinstance(t, DeltaDataIntervalTimetable):
        return {"type": "delta", "seconds": t.delta.total_seconds()}
    if isinstance(t, CronTriggerTimetable):
        return {
            "type": "cron_trigger",
            "expression": t.summary,
            "timezone": zone_name(t.tz),
            "interval": t.interval.total_seconds(),
            "run_immediately": _run_immediately(t.run_immediately),
        }
    if isinstance(t, DeltaTriggerTimetable):
        return {"type": "delta_trigger", "seconds": t.delta.total_seconds(), "interval": t.interval.total_seconds()}
    if isinstance(t, MultipleCronTriggerTimetable):
        first = t.timetables[0]
        return {
            "type": "multiple_cron_trigger",
            "expressions": [x.summary for x in t.timetables],
            "timezone": zone_name(first.tz),
            "interval": first.interval.total_seconds(),
            "run_immediately": _run_immediately(first.run_immediately),
        }
    if isinstance(t, EventsTimetable):
        return {
            "type": "events",
            "event_dates": [x.isoformat() for x in t.event_dates],
            "restrict_to_events": t.restrict_to_events,
            "description": t.description,
            "summary": t.summary,
        }
    if isinstance(t, ContinuousTimetable):
        return {"type": "continuous"}
    if isinstance(t, OnceTimetable):
        return {"type": "once"}
    if isinstance(t, NullTimetable):
        return {"type": "none"}
    if isinstance(t, PrecomputedTimetable):
        return dict(t.node)
    if isinstance(t, BuiltinTimetable) or type(t) is Timetable:
        raise DagDefinitionError(f"cannot serialise the timetable {t!r}: tradewind does not know its class")
    return _precompute(t, restriction or TimeRestriction(None, None, True))


def _precompute(timetable: Timetable, restriction: TimeRestriction) -> dict[str, Any]:
    """Ask a user's timetable for its runs (with catchup: every run from the start date) up to
    a year from now; without catchup only the newest run that has come and the later ones are
    kept; at most ``MAX_RUNS``, the earliest. ``refresh_after``: halfway from now to the last run
    kept (at least ``MIN_REFRESH`` from now), or None once the timetable has said it has no more."""
    name = f"{type(timetable).__module__}.{type(timetable).__qualname__}"
    now = (_clock[-1] if _clock else None) or utcnow()
    runs: list[DagRunInfo] = []
    last: DataInterval | None = None
    asked = TimeRestriction(restriction.earliest, restriction.latest, True)
    ended = False
    for _ in range(MAX_ASKS):
        try:
            info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=asked)
        except Exception as exc:
            raise DagDefinitionError(
                f"timetable {name}: next_dagrun_info(last_automated_data_interval={last}) raised "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if info is None:
            ended = True
            break
        if not isinstance(info, DagRunInfo):
            raise DagDefinitionError(
                f"timetable {name}: next_dagrun_info() must return a DagRunInfo or None, got {info!r}"
            )
        if info.run_after > now + HORIZON:
            break
        if last is not None and info.data_interval.start <= last.start:
            raise DagDefinitionError(
                f"timetable {name}: next_dagrun_info() did not move past the run of {last.start.isoformat()} "
                f"(it returned {info.data_interval.start.isoformat()})"
            )
        runs.append(info)
        last = info.data_interval
        if restriction.catchup and len(runs) >= MAX_RUNS:
            break
    if not restriction.catchup:
        past = [i for i, info in enumerate(runs) if info.run_after <= now]
        if past:
            runs = runs[past[-1] :]
    if len(runs) > MAX_RUNS:
        runs, ended = runs[:MAX_RUNS], False
    refresh: datetime | None = None
    if not ended:
        end = runs[-1].run_after if runs else now + HORIZON
        refresh = max(now + (end - now) / 2, now + MIN_REFRESH)
    return {
        "type": "custom",
        "class": name,
        "summary": timetable.summary,
        "description": timetable.description,
        "runs": [_info(info) for info in runs],
        "computed_at": now.isoformat(),
        "refresh_after": refresh.isoformat() if refresh else None,
    }


class PrecomputedTimetable(Timetable):
    """A user's own timetable as the scheduler sees it: the runs it gave when its file was read."""

    def __init__(self, node: dict[str, Any]) -> None:
        self.node = node
        self.class_name: str = node["class"]
        self.description = node.get("description") or ""
        self._summary: str = node.get("summary") or self.class_name
        self.runs = [
            DagRunInfo(datetime.fromisoformat(a), DataInterval(datetime.fromisoformat(s), datetime.fromisoformat(e)))
            for a, s, e in node["runs"]
        ]

    @property
    def summary(self) -> str:
        return self._summary

    @property
    def type_name(self) -> str:
        return self.class_name

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return DataInterval.exact(run_after)

    def next_run(self, last: DataInterval | None, restriction: TimeRestriction, now: datetime) -> DagRunInfo | None:
        ahead = [
            info
            for info in self.runs
            if (last is None or info.data_interval.start > last.start)
            and (restriction.earliest is None or info.logical_date >= restriction.earliest)
        ]
        if not ahead:
            return None
        chosen = ahead[0]
        if not restriction.catchup:
            come = [info for info in ahead if info.run_after <= now]
            chosen = come[-1] if come else chosen
        if restriction.latest is not None and chosen.logical_date > restriction.latest:
            return None
        return chosen


def read_timetable(node: dict[str, Any]) -> Timetable:
    timetable = _read(node)
    timetable.chosen_by = node.get("chosen_by", "")
    return timetable


def _read(node: dict[str, Any]) -> Timetable:
    kind = node["type"]
    if kind == "cron":
        return CronDataIntervalTimetable(node["expression"], read_zone(node["timezone"]))
    if kind == "delta":
        return DeltaDataIntervalTimetable(timedelta(seconds=node["seconds"]))
    if kind == "cron_trigger":
        return CronTriggerTimetable(
            node["expression"],
            timezone=read_zone(node["timezone"]),
            interval=timedelta(seconds=node.get("interval", 0)),
            run_immediately=_read_run_immediately(node.get("run_immediately", False)),
        )
    if kind == "delta_trigger":
        return DeltaTriggerTimetable(
            timedelta(seconds=node["seconds"]), interval=timedelta(seconds=node.get("interval", 0))
        )
    if kind == "multiple_cron_trigger":
        return MultipleCronTriggerTimetable(
            *node["expressions"],
            timezone=read_zone(node["timezone"]),
            interval=timedelta(seconds=node.get("interval", 0)),
            run_immediately=_read_run_immediately(node.get("run_immediately", False)),
        )
    if kind == "events":
        events = EventsTimetable(
            [datetime.fromisoformat(x) for x in node["event_dates"]],
            restrict_to_events=node.get("restrict_to_events", False),
            presorted=True,
            description=node.get("description"),
        )
        events._summary = node.get("summary") or events.summary
        return events
    if kind == "continuous":
        return ContinuousTimetable()
    if kind == "once":
        return OnceTimetable()
    if kind == "custom":
        return PrecomputedTimetable(node)
    return NullTimetable()
