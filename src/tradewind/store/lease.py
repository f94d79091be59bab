"""One active scheduler per database: a lease row in the store (table ``scheduler_lease``).

A scheduler takes the lease when it starts and renews it every few seconds; the row names its
holder (host, pid, since when) and when the lease lapses unless renewed (``expires_at``).
Another scheduler finds the row held and refuses to start, naming the holder. A scheduler that
was killed stops renewing: once its lease has lapsed, the next scheduler takes it over. When
the holder ran on this machine (same boot and PID namespace, ``host_key``) and its pid is gone,
the lease is taken over at once instead of after it lapses.

Race-free on both databases: each take, renewal and release is one write transaction that
reads the row under the database's own lock — SQLite's write lock, taken first with
``BEGIN IMMEDIATE``; PostgreSQL's row lock, ``SELECT ... FOR UPDATE`` (a row two schedulers
insert at once: one insert wins, the other retries) — and every change is conditional on the
holder it read (``WHERE holder_token = ...``). Times come from one clock: PostgreSQL's
(``clock_timestamp()``), so hosts whose clocks disagree still agree on expiry; for a SQLite
file, which lives on this machine, this machine's.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tradewind.errors import TradewindError
from tradewind.store.models import SchedulerLease

SCHEDULER_LEASE = "scheduler"


@dataclass(frozen=True)
class Holder:
    """A process that holds (or wants) a lease."""

    token: str
    hostname: str
    pid: int
    host_key: str
    started_at: datetime | None = None
    expires_at: datetime | None = None

    def describe(self) -> str:
        since = f", since {self.started_at:%Y-%m-%d %H:%M:%S} UTC" if self.started_at else ""
        return f"pid {self.pid} on host {self.hostname}{since}"


class LeaseHeld(TradewindError):
    """Another process holds the lease."""

    def __init__(self, holder: Holder, name: str = SCHEDULER_LEASE) -> None:
        lapses = f"; its lease lapses at {holder.expires_at:%H:%M:%S} UTC unless renewed" if holder.expires_at else ""
        super().__init__(f"another {name} is running on this database: {holder.describe()}{lapses}")
        self.holder = holder


@dataclass(frozen=True)
class Taken:
    """The lease is ours; ``previous`` held it before (lapsed, or its process is gone: ``why``)."""

    holder: Holder
    previous: Holder | None = None
    why: str | None = None


def _host_key() -> str:
    """This machine's boot id and PID namespace: a pid read from a row with the same key can be
    looked up here. Empty where unknown (then a lease is only ever taken over once it lapses)."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            boot = handle.read().strip()
        return f"{boot}/{os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return ""


def this_process() -> Holder:
    """A new holder identity for this process (a fresh token: tokens are never reused)."""
    return Holder(secrets.token_hex(16), socket.gethostname(), os.getpid(), _host_key())


def _pid_gone(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a killed process its parent has not reaped yet is a zombie: gone as well
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _begin_write(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, before the row is read


def _now(connection: Connection) -> datetime:
    if connection.dialect.name == "postgresql":
        value = connection.execute(select(func.clock_timestamp())).scalar_one()
        return value.astimezone(UTC)  # type: ignore[no-any-return]
    return datetime.now(UTC)


def _holder_query(name: str) -> Any:
    """The lease's holder, in the order of ``Holder``'s fields."""
    return select(
        SchedulerLease.holder_token,
        SchedulerLease.hostname,
        SchedulerLease.pid,
        SchedulerLease.host_key,
        SchedulerLease.started_at,
        SchedulerLease.expires_at,
    ).where(SchedulerLease.name == name)


def _row(connection: Connection, name: str) -> Holder | None:
    found = connection.execute(_holder_query(name).with_for_update()).first()
    return None if found is None else Holder(*found)


def acquire(engine: Engine, me: Holder, seconds: float, name: str = SCHEDULER_LEASE) -> Taken:
    """Take the lease for ``seconds``, or raise :class:`LeaseHeld` naming its live holder."""
    for _ in range(5):
        with engine.connect() as connection:
            _begin_write(connection)
            current = _row(connection, name)
            now = _now(connection)
            expires = now + timedelta(seconds=seconds)
            values: dict[str, object] = {
                "holder_token": me.token,
                "hostname": me.hostname,
                "pid": me.pid,
                "host_key": me.host_key,
                "started_at": now,
                "renewed_at": now,
                "expires_at": expires,
            }
            mine = Holder(me.token, me.hostname, me.pid, me.host_key, now, expires)
            if current is None:
                try:
                    connection.execute(insert(SchedulerLease).values(name=name, **values))
                    connection.commit()
                except IntegrityError:
                    connection.rollback()  # another process inserted it first: read it again
                    continue
                return Taken(mine)
            if current.token == me.token:
                values["started_at"] = current.started_at or now
                why = None
            elif current.expires_at is not None and current.expires_at <= now:
                why = f"its lease lapsed at {current.expires_at:%H:%M:%S} UTC"
            elif me.host_key and current.host_key == me.host_key and _pid_gone(current.pid):
                why = "its process is gone"
            else:
                connection.rollback()
                raise LeaseHeld(current, name)
            changed = connection.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == name, SchedulerLease.holder_token == current.token)
                .values(**values)
            )
            if changed.rowcount != 1:
                connection.rollback()
                continue
            connection.commit()
            return Taken(mine, None if current.token == me.token else current, why)
    raise TradewindError(f"could not take the {name} lease: it changed hands five times while trying")


def renew(engine: Engine, token: str, seconds: float, name: str = SCHEDULER_LEASE) -> Holder | None:
    """Extend our lease by ``seconds`` from now. Returns None when it is still ours, else the
    holder that has it now (a placeholder with pid 0 if nobody does)."""
    with engine.connect() as connection:
        _begin_write(connection)
        now = _now(connection)
        changed = connection.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == name, SchedulerLease.holder_token == token)
            .values(renewed_at=now, expires_at=now + timedelta(seconds=seconds))
        )
        if changed.rowcount == 1:
            connection.commit()
            return None
        holder = _row(connection, name)
        connection.rollback()
        return holder or Holder("", "nobody", 0, "")


def release(engine: Engine, token: str, name: str = SCHEDULER_LEASE) -> None:
    """Give the lease up (if it is still ours): the next scheduler may start at once."""
    with engine.connect() as connection:
        _begin_write(connection)
        connection.execute(
            delete(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.holder_token == token)
        )
        connection.commit()


def current(engine: Engine, name: str = SCHEDULER_LEASE) -> Holder | None:
    """The lease's holder as stored (it may have lapsed), or None."""
    with engine.connect() as connection:
        found = connection.execute(_holder_query(name)).first()
    return None if found is None else Holder(*found)
