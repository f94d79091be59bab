"""Admission: which scheduled instances may start now. One implementation for ``dags test`` and
the scheduler: a run's ``max_active_tasks``, each task's ``max_active_tis_per_dag`` (over every
run of the DAG the driver holds) and the slot pools. (``max_active_tis_per_dagrun`` is the run
state machine's own backlog.)"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tradewind.definitions.serialized import SerializedDAG, SerializedTask, effective_priority
from tradewind.definitions.states import TaskInstanceState
from tradewind.scheduler.run_state import InstanceRecord, RunState

_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass
class ActiveRun:
    dag: SerializedDAG  # the version the run was created with, kept to its end
    state: RunState
    in_flight: int = 0
    waiting: deque[InstanceRecord] = field(default_factory=deque)  # scheduled, held by a limit
    sorted_count: int = 0  # how many of ``waiting``, from the left, are in admission order already


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
        self._weights: dict[tuple[str, str], int] = {}  # (DAG version, task_id) -> weight

    def admit(self, active: ActiveRun, running_across_runs: Callable[[str, str], int]) -> list[InstanceRecord]:
        """Take waiting instances of ``active`` while the limits have room. An instance whose
        pool does not exist fails at once (it could never start)."""
        return self.admit_runs([active], running_across_runs).get(id(active), [])

    def weight(self, dag: SerializedDAG, task_id: str) -> int:
        """A task's priority weight under its weight rule (Airflow's: its own weight plus its
        downstream tasks' by default), worked out once per DAG version and task."""
        weights = dag.priorities
        if weights is not None:
            return weights[task_id]
        key = (dag.version, task_id)
        found = self._weights.get(key)
        if found is None:  # every task at the defaults: only the tasks that compete are walked
            found = self._weights[key] = effective_priority(dag.task_dict, task_id)
        return found

    def admit_runs(
        self, actives: list[ActiveRun], running_across_runs: Callable[[str, str], int]
    ) -> dict[int, list[InstanceRecord]]:
        """Admit the waiting instances of several runs in one order, as Airflow's scheduler does
        across all its runs and DAGs: higher priority weight first, then the earlier run
        (logical date, else run_after), then the order they became ready in. A merge of the runs'
        queues (each sorted by weight): a run stops at its max_active_tasks or at a full pool,
        so the cost follows what is admitted, not what waits. Returns id(ActiveRun) -> admitted."""
        heads: list[tuple[int, datetime, int, int]] = []  # (-weight, run date, seq, run number)
        admitted: dict[int, list[InstanceRecord]] = {}
        held: dict[int, deque[InstanceRecord]] = {}
        per_task: Counter[tuple[str, str]] = Counter()
        dates: list[datetime] = []
        for number, active in enumerate(actives):
            self._order_waiting(active)
            context = active.state.context
            dates.append(context.logical_date or context.run_after or _EARLIEST)
            admitted[id(active)] = []
            held[id(active)] = deque()
            self._push(heads, active, number, dates[number], 0)
        while heads:
            _, _, seq, number = heapq.heappop(heads)
            active = actives[number]
            if active.in_flight + len(admitted[id(active)]) >= active.dag.max_active_tasks:
                continue  # this run is at its max_active_tasks
            record = active.waiting.popleft()
            outcome = self._take(active, record, running_across_runs, per_task, held[id(active)])
            if outcome == "admitted":
                admitted[id(active)].append(record)
            elif outcome == "pool_full":
                continue  # this run waits for room in the pool (looked at again on release)
            self._push(heads, active, number, dates[number], seq + 1)
        for active in actives:
            active.waiting.extendleft(reversed(held[id(active)]))
            active.sorted_count = len(active.waiting)
        return admitted

    def _order_waiting(self, active: ActiveRun) -> None:
        """Higher priority_weight first (stable). Only what arrived since the last admission is
        sorted (it is at the right end); the queue is merged again only when something heavier
        arrived, so a long queue of one task (a wide map) costs nothing per turn."""
        waiting = active.waiting
        done = min(active.sorted_count, len(waiting))
        if len(waiting) - done == 0 or len(waiting) < 2:
            return
        dag = active.dag
        tail = [waiting.pop() for _ in range(len(waiting) - done)]
        tail.reverse()
        tail.sort(key=lambda r: -self.weight(dag, r.task_id))
        if done and self.weight(dag, tail[0].task_id) > self.weight(dag, waiting[-1].task_id):
            active.waiting = deque(heapq.merge(waiting, tail, key=lambda r: -self.weight(dag, r.task_id)))
        else:
            waiting.extend(tail)

    def _push(
        self, heads: list[tuple[int, datetime, int, int]], active: ActiveRun, number: int, date: datetime, seq: int
    ) -> None:
        if active.waiting:
            weight = self.weight(active.dag, active.waiting[0].task_id)
            heapq.heappush(heads, (-weight, date, seq, number))

    def _take(
        self,
        active: ActiveRun,
        record: InstanceRecord,
        running_across_runs: Callable[[str, str], int],
        per_task: Counter[tuple[str, str]],
        held: deque[InstanceRecord],
    ) -> str:
        """May ``record`` start now: "admitted", "held" (back in ``held``: a task limit),
        "pool_full" (in ``held`` too), or "dropped" (it ended, or failed for want of a pool)."""
        if record.state is not TaskInstanceState.SCHEDULED:
            return "dropped"  # ended while waiting (fail_fast, dagrun_timeout)
        task = active.dag.task_dict[record.task_id]
        size = self.pool_sizes.get(task.pool)
        if size is None:
            active.state.fail_now(record, missing_pool_message(task.pool))
            return "dropped"
        run = (active.state.context.dag_id, active.state.context.run_id)
        limit = task.max_active_tis_per_dag
        task_key = (active.dag.dag_id, task.task_id)
        if limit is not None and running_across_runs(*task_key) + per_task[task_key] >= limit:
            held.append(record)
            self._blocked_on_task[task_key].add(run)
            return "held"
        if self.pool_used[task.pool] + task.pool_slots > size:
            held.append(record)
            self._blocked_on_pool[task.pool].add(run)
            return "pool_full"
        self.pool_used[task.pool] += task.pool_slots
        per_task[task_key] += 1
        return "admitted"

    def release(self, task: SerializedTask, dag_id: str) -> set[tuple[str, str]]:
        """An instance of ``task`` ended: free its slots. Returns the runs that were waiting for
        this room."""
        self.pool_used[task.pool] -= task.pool_slots
        waiting = self._blocked_on_pool.pop(task.pool, set())
        return waiting | self._blocked_on_task.pop((dag_id, task.task_id), set())
