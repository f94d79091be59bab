"""Admission: which scheduled instances may start now. One implementation for ``dags test`` and
the scheduler: a run's ``max_active_tasks``, each task's ``max_active_tis_per_dag`` (over every
run of the DAG the driver holds) and the slot pools. (``max_active_tis_per_dagrun`` is the run
state machine's own backlog.)"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from tradewind.definitions.serialized import SerializedDAG, SerializedTask
from tradewind.definitions.states import TaskInstanceState
from tradewind.scheduler.run_state import InstanceRecord, RunState


@dataclass
class ActiveRun:
    dag: SerializedDAG  # the version the run was created with, kept to its end
    state: RunState
    in_flight: int = 0
    waiting: deque[InstanceRecord] = field(default_factory=deque)  # scheduled, held by a limit


def missing_pool_message(pool: str) -> str:
    return f"pool '{pool}' does not exist: create it with `tradewind pools set {pool} SLOTS`"


class Admission:
    """Slot pools in use, and the rule that lets waiting instances start."""

    def __init__(self, pool_sizes: dict[str, int]) -> None:
        self.pool_sizes = pool_sizes
        self.pool_used: Counter[str] = Counter()
        # runs holding instances back for want of room: in a pool, or under a task's
        # max_active_tis_per_dag (dag_id, task_id); looked at again when that room comes
        self._blocked_on_pool: defaultdict[str, set[tuple[str, str]]] = defaultdict(set)
        self._blocked_on_task: defaultdict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)

    def admit(self, active: ActiveRun, running_across_runs: Callable[[str, str], int]) -> list[InstanceRecord]:
        """Take waiting instances of ``active`` while the limits have room. An instance whose
        pool does not exist fails at once (it could never start)."""
        admitted: list[InstanceRecord] = []
        held: deque[InstanceRecord] = deque()
        per_task: Counter[str] = Counter()
        weights = active.dag.priorities
        if weights is not None and len(active.waiting) > 1:  # higher priority_weight first (stable)
            active.waiting = deque(sorted(active.waiting, key=lambda r: -weights[r.task_id]))
        while active.waiting and active.in_flight + len(admitted) < active.dag.max_active_tasks:
            record = active.waiting.popleft()
            if record.state is not TaskInstanceState.SCHEDULED:
                continue  # ended while waiting (fail_fast, dagrun_timeout)
            task = active.dag.task_dict[record.task_id]
            size = self.pool_sizes.get(task.pool)
            if size is None:
                active.state.fail_now(record, missing_pool_message(task.pool))
                continue
            run = (active.state.context.dag_id, active.state.context.run_id)
            limit = task.max_active_tis_per_dag
            if (
                limit is not None
                and running_across_runs(active.dag.dag_id, task.task_id) + per_task[task.task_id] >= limit
            ):
                held.append(record)
                self._blocked_on_task[(active.dag.dag_id, task.task_id)].add(run)
                continue
            if self.pool_used[task.pool] + task.pool_slots > size:
                held.append(record)
                self._blocked_on_pool[task.pool].add(run)
                break
            self.pool_used[task.pool] += task.pool_slots
            per_task[task.task_id] += 1
            admitted.append(record)
        active.waiting.extendleft(reversed(held))
        return admitted

    def release(self, task: SerializedTask, dag_id: str) -> set[tuple[str, str]]:
        """An instance of ``task`` ended: free its slots. Returns the runs that were waiting for
        this room."""
        self.pool_used[task.pool] -= task.pool_slots
        waiting = self._blocked_on_pool.pop(task.pool, set())
        return waiting | self._blocked_on_task.pop((dag_id, task.task_id), set())
