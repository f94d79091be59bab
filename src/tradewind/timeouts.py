"""A time limit on a block of code, shared by DAG-file imports and task execution."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def time_limit(seconds: float | None, on_expiry: Callable[[], BaseException]) -> Iterator[None]:
    """Raise ``on_expiry()`` inside the block once ``seconds`` have passed. Signals only reach
    the main thread, so elsewhere (and for no limit) the block runs unbounded."""
    if not seconds or seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise on_expiry()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
