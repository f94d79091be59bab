"""States of task instances and DAG runs, and the trigger rules that move between them."""

from __future__ import annotations

from enum import StrEnum

from tradewind.errors import DagDefinitionError


class TaskInstanceState(StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"
    UPSTREAM_FAILED = "upstream_failed"
    UP_FOR_RETRY = "up_for_retry"
    UP_FOR_RESCHEDULE = "up_for_reschedule"  # a sensor in reschedule mode, waiting for its next poke
    REMOVED = "removed"

    @property
    def finished(self) -> bool:
        return self in FINISHED_STATES


FINISHED_STATES = frozenset(
    {
        TaskInstanceState.SUCCESS,
        TaskInstanceState.FAILED,
        TaskInstanceState.SKIPPED,
        TaskInstanceState.UPSTREAM_FAILED,
        TaskInstanceState.REMOVED,
    }
)


class DagRunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"


class TriggerRule(StrEnum):
    """When a task may run, given the states of its upstream task instances."""

    ALL_SUCCESS = "all_success"
    ALL_FAILED = "all_failed"
    ALL_DONE = "all_done"
    ALL_SKIPPED = "all_skipped"
    ONE_SUCCESS = "one_success"
    ONE_FAILED = "one_failed"
    ONE_DONE = "one_done"
    NONE_FAILED = "none_failed"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"
    NONE_SKIPPED = "none_skipped"
    ALWAYS = "always"
    ALL_DONE_SETUP_SUCCESS = "all_done_setup_success"  # a teardown's rule (see setup_teardown.py)

    @classmethod
    def parse(cls, value: str | TriggerRule) -> TriggerRule:
        try:
            return cls(value)
        except ValueError:
            valid = ", ".join(rule.value for rule in cls)
            raise DagDefinitionError(f"Unknown trigger_rule {value!r}; use one of: {valid}") from None
