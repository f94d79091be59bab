"""One scheduler at a time, two guards:

* per TRADEWIND_HOME (its logs, its SQLite file): an exclusive ``flock`` on a pid file, released
  by the kernel when the process ends, however it ends (kill -9 included);
* per database (schedulers on several homes or hosts can share one PostgreSQL): the lease row of
  ``tradewind.store.lease``, renewed by the running scheduler (``DatabaseLease.heartbeat``,
  called from the scheduler loop) and taken over by the next scheduler once it lapses.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from tradewind.config import conf, make_folders
from tradewind.errors import TradewindError


class LockHeld(TradewindError):
    """Another scheduler holds the lock (of this home, or the lease of this database)."""


class LeaseLost(TradewindError):
    """Another scheduler took this scheduler's lease: it must stop at once."""


class SchedulerLock:
    """The flock on ``$TRADEWIND_HOME/scheduler.pid``; the file names its holder (pid, host, since)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def __enter__(self) -> SchedulerLock:
        return self.acquire()

    def acquire(self) -> SchedulerLock:
        """Take the lock or raise LockHeld naming the pid that holds it."""
        make_folders(self.path.parent)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid, _, rest = handle.read().strip().partition(" ")
            handle.close()
            where = f" {rest}" if rest else ""
            raise LockHeld(f"another scheduler is running (pid {pid or 'unknown'}{where}, lock {self.path})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} on host {socket.gethostname()}, since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


class DatabaseLease:
    """This process's hold on the database's scheduler lease (``[scheduler] lease_seconds``,
    renewed every ``lease_renew_seconds``)."""

    def __init__(self, engine: Any, *, seconds: float | None = None, renew_every: float | None = None) -> None:
        from tradewind.store.lease import this_process

        self.engine = engine
        self.seconds = float(seconds if seconds is not None else conf.get("scheduler", "lease_seconds"))
        self.renew_every = float(
            renew_every if renew_every is not None else conf.get("scheduler", "lease_renew_seconds")
        )
        if self.seconds <= 0 or not 0 < self.renew_every < self.seconds:
            raise TradewindError(
                f"[scheduler] lease_renew_seconds ({self.renew_every:g}) must be above 0 and below "
                f"lease_seconds ({self.seconds:g})"
            )
        self.me = this_process()
        self.held = False
        self.note: str | None = None  # how the lease was taken, when it was taken over
        self._renewed = 0.0  # monotonic time of the last renewal that worked

    def __enter__(self) -> DatabaseLease:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> DatabaseLease:
        """Take the lease, or raise LockHeld naming its holder (host, pid, since)."""
        from tradewind.store.lease import LeaseHeld, acquire

        started = time.monotonic()
        try:
            taken = acquire(self.engine, self.me, self.seconds)
        except LeaseHeld as exc:
            raise LockHeld(str(exc)) from None
        self.held = True
        self._renewed = started
        if taken.previous is not None:
            self.note = f"took over the scheduler lease of {taken.previous.describe()}: {taken.why}"
        return self

    def heartbeat(self) -> None:
        """Renew the lease when due; raise LeaseLost when another scheduler has it now, or when it
        could not be renewed before it lapsed (this scheduler must then stop starting work)."""
        from sqlalchemy.exc import SQLAlchemyError

        from tradewind.store.lease import renew

        if not self.held:
            return
        now = time.monotonic()
        if now - self._renewed < self.renew_every:
            return
        try:
            other = renew(self.engine, self.me.token, self.seconds)
        except SQLAlchemyError as exc:
            if time.monotonic() - self._renewed >= self.seconds:
                self.held = False
                raise LeaseLost(
                    f"the scheduler lease could not be renewed for {self.seconds:g}s (the database says: "
                    f"{str(exc).splitlines()[0]}); stopping so that another scheduler can take over"
                ) from None
            return  # try again at the next beat
        if other is not None:
            self.held = False
            raise LeaseLost(f"another scheduler took over this database's lease ({other.describe()}): stopping")
        self._renewed = now

    def release(self) -> None:
        from tradewind.store.lease import release

        if self.held:
            self.held = False
            try:
                release(self.engine, self.me.token)
            except Exception:
                pass
