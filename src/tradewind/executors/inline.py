"""The inline executor: runs task instances one after another in this process.

Used by ``tradewind dags test`` and ``tasks test``: no start-up cost, a debugger and print()
work as usual, and each task's log lines go straight to the given stream.

It cannot interrupt a try: a try runs inside ``next_results``, so ``kill`` (``dagrun_timeout``,
``fail_fast``) only finds tries that have not started, and drops them. ``dags test`` checks
``dagrun_timeout`` between tasks: a task running when the run times out finishes first.
"""

from __future__ import annotations

import os
import socket
from collections import deque
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import TextIO

from tradewind.definitions.abstractoperator import AbstractOperator
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import TaskInstanceState
from tradewind.runtime.callbacks import run_dag_callback_item
from tradewind.runtime.run_task import run_task
from tradewind.runtime.work import ErrorInfo, TaskResult, TaskStarted, WorkItem


class InlineExecutor:
    def __init__(self, find_task: Callable[[WorkItem], AbstractOperator], log: TextIO) -> None:
        self.find_task = find_task
        self.log = log
        self._queue: deque[WorkItem] = deque()
        self._started: list[TaskStarted] = []
        self._killed: list[TaskResult] = []  # tries dropped before they started
        self._where = (socket.gethostname(), os.getpid())

    def start(self) -> None:
        pass

    def submit(self, items: Sequence[WorkItem]) -> None:
        self._queue.extend(items)

    def next_results(self, timeout: float | None = None) -> list[TaskResult]:
        """Run everything submitted so far and return the results (never waits: nothing runs elsewhere)."""
        results, self._killed = self._killed, []
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

    def kill(self, keys: Collection[TaskInstanceKey], reason: str) -> None:
        """Drop the tries among ``keys`` not started yet (nothing else can be running here)."""
        wanted = set(keys)
        for item in [i for i in self._queue if i.key in wanted]:
            self._queue.remove(item)
            now = datetime.now(UTC)
            error = ErrorInfo("TaskKilled", f"not started: {reason}", "")
            self._killed.append(TaskResult(item.key, TaskInstanceState.FAILED, now, now, error=error, retryable=False))

    def stop(self, wait: bool = True) -> None:
        self._queue.clear()
        self._killed.clear()
        self._started.clear()
