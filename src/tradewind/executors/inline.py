"""The inline executor: runs task instances one after another in this process.

Used by ``tradewind dags test`` and ``tasks test``: no start-up cost, a debugger and print()
work as usual, and each task's log lines go straight to the given stream.
"""

from __future__ import annotations

import os
import socket
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TextIO

from tradewind.definitions.abstractoperator import AbstractOperator
from tradewind.runtime.callbacks import run_dag_callback_item
from tradewind.runtime.run_task import run_task
from tradewind.runtime.work import TaskResult, TaskStarted, WorkItem


class InlineExecutor:
    def __init__(self, find_task: Callable[[WorkItem], AbstractOperator], log: TextIO) -> None:
        self.find_task = find_task
        self.log = log
        self._queue: deque[WorkItem] = deque()
        self._started: list[TaskStarted] = []
        self._where = (socket.gethostname(), os.getpid())

    def start(self) -> None:
        pass

    def submit(self, items: Sequence[WorkItem]) -> None:
        self._queue.extend(items)

    def next_results(self, timeout: float | None = None) -> list[TaskResult]:
        """Run everything submitted so far and return the results (never waits: nothing runs elsewhere)."""
        results = []
        while self._queue:
            item = self._queue.popleft()
            self._started.append(TaskStarted(item.key, datetime.now(UTC), *self._where))
            if item.dag_callback is not None:
                results.append(run_dag_callback_item(self.find_task(item), item, self.log))
                continue
            results.append(run_task(self.find_task(item), item, self.log))
        return results

    def take_started(self) -> list[TaskStarted]:
        """Every try run by the last ``next_results`` (it began here, in this process)."""
        started, self._started = self._started, []
        return started

    def stop(self, wait: bool = True) -> None:
        self._queue.clear()
        self._started.clear()
