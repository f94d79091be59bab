"""The executor interface: the scheduler submits WorkItems and collects TaskResults."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.runtime.work import TaskResult, TaskStarted, WorkItem


class Executor(Protocol):
    """Inline (this process), local (a pool of worker processes) or a cluster: same six calls."""

    def start(self) -> None: ...

    def submit(self, items: Sequence[WorkItem]) -> None: ...

    def next_results(self, timeout: float | None) -> list[TaskResult]:
        """Results that are ready; waits up to ``timeout`` seconds for at least one."""
        ...

    def take_started(self) -> list[TaskStarted]:
        """Tries that began since the last call and were still running when their worker last
        reported. Call it after ``next_results`` and apply these before that call's results: a
        try's start never comes in a later call than its result."""
        ...

    def kill(self, keys: Collection[TaskInstanceKey], reason: str) -> None:
        """End these tries (their run ended them: ``dagrun_timeout``, ``fail_fast``): a running one
        is killed, its log saying ``reason``; one not started never starts. Each still gets one
        result (failed, ``TaskKilled``) from ``next_results``, unless it had already ended. A key
        the executor no longer holds is ignored. An executor that cannot interrupt a running try
        says so in its docstring; it lets that try finish."""
        ...

    def stop(self, wait: bool = True) -> None: ...
