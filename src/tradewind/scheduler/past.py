"""``depends_on_past`` and ``wait_for_downstream``: what the previous run of a DAG lets a task do.

The rule is Airflow 3's (``PrevDagrunDep``): an instance of a task with ``depends_on_past`` may
run only when every instance of the same task in the previous run of its DAG (all its map
indexes, as Airflow counts them) ended ``success`` or ``skipped``; with ``wait_for_downstream``
the previous run's instances of the task's direct downstream tasks must have too. The previous
run is the one with the latest logical date before this run's (not counting manual runs when
the DAG has ``catchup``); a run without a logical date, or without a previous run, passes. A
task the previous run does not have passes when ``ignore_first_depends_on_past`` (the default).

The state machine (``run_state.py``) stays pure: it is handed a :class:`PreviousRun` and asks it
for state counts. The scheduler gives it the previous run's live ``RunState`` when that run is
active (and re-checks waiting tasks when an instance of it ends), else the states read once
from the store; ``dags test`` reads the store once. See docs/adr/0011 part F.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from tradewind.definitions.states import TaskInstanceState

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from tradewind.scheduler.run_state import RunState

S = TaskInstanceState
SUCCESSFUL = frozenset({S.SUCCESS, S.SKIPPED})
StateCounts = Mapping[TaskInstanceState | None, int]


def _unsuccessful(counts: StateCounts) -> int:
    return sum(n for state, n in counts.items() if n and state not in SUCCESSFUL)


def past_depends_met(
    own: StateCounts | None,
    downstream: Iterable[StateCounts],
    *,
    wait_for_downstream: bool,
    ignore_first: bool = True,
) -> bool:
    """Airflow's rule, given the previous run's state counts of the task (None: the previous run
    has no instance of it) and, for ``wait_for_downstream``, of its direct downstream tasks.
    Not yet finished counts as not successful (Airflow's rule: the task waits)."""
    if own is None:
        return ignore_first
    if _unsuccessful(own):
        return False
    return not (wait_for_downstream and any(_unsuccessful(counts) for counts in downstream))


def pick_previous(
    runs: Iterable[tuple[str, datetime | None, str]], logical_date: datetime | None, *, catchup: bool
) -> str | None:
    """The run_id of the previous run among ``(run_id, logical_date, run_type)``: the latest logical
    date before ``logical_date``; with ``catchup``, manual runs do not count (Airflow's
    ``get_previous_scheduled_dagrun``). None for a run without a logical date."""
    if logical_date is None:
        return None
    best: tuple[datetime, str] | None = None
    for run_id, moment, run_type in runs:
        if moment is None or moment >= logical_date or (catchup and run_type == "manual"):
            continue
        if best is None or moment > best[0]:
            best = (moment, run_id)
    return best[1] if best is not None else None


class PreviousRun(Protocol):
    """What the state machine asks of the previous run of its DAG."""

    run_id: str

    def states(self, task_id: str) -> StateCounts | None:
        """State counts of the task's instances in that run; None: it has none."""


class LiveRun:
    """A previous run the scheduler holds in memory: its counts are read as they change."""

    def __init__(self, run_id: str, state: RunState) -> None:
        self.run_id = run_id
        self._state = state

    def states(self, task_id: str) -> StateCounts | None:
        return self._state.counts.get(task_id)


class StoredRun:
    """A previous run read from the store (it is not running: its states change only when it is
    cleared, and a cleared run that starts again is given as a :class:`LiveRun`)."""

    def __init__(self, run_id: str, counts: Mapping[str, StateCounts], *, finished: bool = True) -> None:
        self.run_id = run_id
        self._counts = {task_id: Counter(c) for task_id, c in counts.items()}
        self._finished = finished

    def states(self, task_id: str) -> StateCounts | None:
        found = self._counts.get(task_id)
        if found is None and not self._finished:
            # the store writes an instance once it is decided: in a run not finished, a task
            # without a row has not started (a finished run has a row for each of its tasks)
            return Counter({None: 1})
        return found


def describe(counts: StateCounts | None) -> str:
    """The unsuccessful states of the previous run's instances, for a message."""
    if counts is None:
        return "has no instance of it"
    shown = ", ".join(f"{n} {state or 'not started'}" for state, n in counts.items() if n and state not in SUCCESSFUL)
    return f"has {shown}"


def previous_in_store(engine: Engine, dag_id: str, logical_date: datetime | None, *, catchup: bool) -> StoredRun | None:
    """The previous run of ``dag_id`` before ``logical_date`` as the store has it (one query for
    the run, one for its states), or None when there is none."""
    if logical_date is None:
        return None
    # the store only here: the state machine (which imports this module) stays free of SQLAlchemy
    from tradewind.store import queries as q
    from tradewind.store.engine import session_scope

    with session_scope(engine) as session:
        run = q.previous_dag_run(session, dag_id, logical_date, skip_manual=catchup)
        if run is None:
            return None
        counts = q.task_state_counts(session, dag_id, run.run_id)
        return StoredRun(
            run.run_id,
            {task_id: {S(s) if s else None: n for s, n in by_state.items()} for task_id, by_state in counts.items()},
            finished=run.state in ("success", "failed"),
        )
