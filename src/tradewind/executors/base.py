"""The executor interface: the scheduler submits WorkItems and collects TaskResults."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tradewind.runtime.work import TaskResult, WorkItem


class Executor(Protocol):
    """Inline (this process), local (a pool of worker processes) or a cluster: same four calls."""

    def start(self) -> None: ...

    def submit(self, items: Sequence[WorkItem]) -> None: ...

    def next_results(self, timeout: float | None) -> list[TaskResult]:
        """Results that are ready; waits up to ``timeout`` seconds for at least one."""
        ...

    def stop(self, wait: bool = True) -> None: ...
