"""Column types shared by the models: timestamps that are timezone-aware UTC on every database,
and JSON written compactly and strictly (no NaN, which PostgreSQL's ``json`` rejects)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


def dumps_json(value: Any) -> str:
    """Serialise ``value`` as compact, strict JSON (the engine's ``json_serializer``)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def as_utc(value: datetime) -> datetime:
    """``value`` as a plain ``datetime`` in UTC; a naive datetime is refused (its zone is unknown)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"naive datetime {value.isoformat()} cannot be stored: tradewind keeps timestamps "
            "timezone-aware, e.g. datetime.now(UTC) or datetime(2025, 1, 1, tzinfo=UTC)"
        )
    utc = value.astimezone(UTC)
    # pendulum and other subclasses become a plain datetime, so every driver adapts them alike
    return datetime(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, tzinfo=UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (UTC), SQLite included.

    PostgreSQL keeps it as ``timestamp with time zone``; SQLite, which has no zones, keeps the
    UTC wall-clock time, so values still sort and compare in time order.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(DateTime(timezone=False))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        utc = as_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
