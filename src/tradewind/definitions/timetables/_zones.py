"""Time zones as timetables take them: a name ("Europe/Amsterdam") or a tzinfo."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone, tzinfo
from typing import Any

from tradewind.errors import DagDefinitionError


def as_zone(value: Any, call: str) -> tzinfo:
    if isinstance(value, tzinfo):
        return value
    if isinstance(value, str):
        if value.upper() == "UTC":
            return UTC
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise DagDefinitionError(
                f"{call}: timezone {value!r} is not a time zone name; use an IANA name such as 'Europe/Amsterdam'"
            ) from None
    raise DagDefinitionError(f"{call}: timezone must be a name or a tzinfo, got {value!r}")


def zone_name(tz: Any) -> str | float:
    """An IANA name where there is one, else the fixed UTC offset in seconds."""
    for attribute in ("key", "name", "zone"):
        name = getattr(tz, attribute, None)
        if isinstance(name, str) and name:
            return name
    offset = tz.utcoffset(None) if tz is not None else None
    return offset.total_seconds() if offset is not None else 0.0


def read_zone(value: str | float) -> tzinfo:
    if isinstance(value, (int, float)):
        return timezone(timedelta(seconds=value)) if value else UTC
    if value == "UTC":
        return UTC
    from zoneinfo import ZoneInfo

    return ZoneInfo(value)
