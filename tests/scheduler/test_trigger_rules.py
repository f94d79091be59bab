"""Trigger rules, table-driven, per Airflow's documented semantics.

Each row gives the states of a task's upstream instances; ``None`` is an instance that has not
been scheduled yet. Failures and skips propagate as soon as they decide the outcome, and the
``one_*`` rules fire without waiting for the other upstream tasks.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tradewind.definitions.states import TaskInstanceState, TriggerRule
from tradewind.scheduler.trigger_rules import Decision, evaluate

TR = TriggerRule
SUCCESS = TaskInstanceState.SUCCESS
FAILED = TaskInstanceState.FAILED
SKIPPED = TaskInstanceState.SKIPPED
UPSTREAM_FAILED = TaskInstanceState.UPSTREAM_FAILED
RUNNING = TaskInstanceState.RUNNING
QUEUED = TaskInstanceState.QUEUED
RETRY = TaskInstanceState.UP_FOR_RETRY
PENDING = None

RUN = Decision.RUN
WAIT = Decision.WAIT
SKIP = Decision.SKIP
UFAIL = Decision.UPSTREAM_FAILED

TABLE: list[tuple[TriggerRule, list[TaskInstanceState | None], Decision]] = [
    # all_success: every upstream succeeded
    (TR.ALL_SUCCESS, [SUCCESS, SUCCESS], RUN),
    (TR.ALL_SUCCESS, [SUCCESS, RUNNING], WAIT),
    (TR.ALL_SUCCESS, [SUCCESS, PENDING], WAIT),
    (TR.ALL_SUCCESS, [SUCCESS, RETRY], WAIT),
    (TR.ALL_SUCCESS, [FAILED, RUNNING], UFAIL),
    (TR.ALL_SUCCESS, [UPSTREAM_FAILED, SUCCESS], UFAIL),
    (TR.ALL_SUCCESS, [FAILED, SKIPPED], UFAIL),
    (TR.ALL_SUCCESS, [SKIPPED, SUCCESS], SKIP),
    (TR.ALL_SUCCESS, [SKIPPED, QUEUED], SKIP),
    # all_failed: every upstream failed or upstream_failed
    (TR.ALL_FAILED, [FAILED, FAILED], RUN),
    (TR.ALL_FAILED, [FAILED, UPSTREAM_FAILED], RUN),
    (TR.ALL_FAILED, [FAILED, RUNNING], WAIT),
    (TR.ALL_FAILED, [FAILED, SUCCESS], SKIP),
    (TR.ALL_FAILED, [FAILED, SKIPPED], SKIP),
    (TR.ALL_FAILED, [SUCCESS, RUNNING], SKIP),
    # all_done: every upstream finished, whatever the outcome
    (TR.ALL_DONE, [SUCCESS, FAILED, SKIPPED, UPSTREAM_FAILED], RUN),
    (TR.ALL_DONE, [FAILED, FAILED], RUN),
    (TR.ALL_DONE, [SKIPPED], RUN),
    (TR.ALL_DONE, [SUCCESS, RUNNING], WAIT),
    (TR.ALL_DONE, [FAILED, RETRY], WAIT),
    (TR.ALL_DONE, [FAILED, PENDING], WAIT),
    # all_skipped: every upstream skipped
    (TR.ALL_SKIPPED, [SKIPPED, SKIPPED], RUN),
    (TR.ALL_SKIPPED, [SKIPPED, RUNNING], WAIT),
    (TR.ALL_SKIPPED, [SKIPPED, SUCCESS], SKIP),
    (TR.ALL_SKIPPED, [SKIPPED, FAILED], SKIP),
    (TR.ALL_SKIPPED, [UPSTREAM_FAILED, RUNNING], SKIP),
    (TR.ALL_SKIPPED, [SUCCESS, PENDING], SKIP),
    # one_success: fires on the first success
    (TR.ONE_SUCCESS, [SUCCESS, RUNNING], RUN),
    (TR.ONE_SUCCESS, [SUCCESS, PENDING], RUN),
    (TR.ONE_SUCCESS, [FAILED, SUCCESS], RUN),
    (TR.ONE_SUCCESS, [SKIPPED, SUCCESS], RUN),
    (TR.ONE_SUCCESS, [FAILED, RUNNING], WAIT),
    (TR.ONE_SUCCESS, [SKIPPED, PENDING], WAIT),
    (TR.ONE_SUCCESS, [SKIPPED, SKIPPED], SKIP),
    (TR.ONE_SUCCESS, [FAILED, FAILED], UFAIL),
    (TR.ONE_SUCCESS, [FAILED, SKIPPED], UFAIL),
    (TR.ONE_SUCCESS, [UPSTREAM_FAILED, SKIPPED], UFAIL),
    # one_failed: fires on the first failure
    (TR.ONE_FAILED, [FAILED, RUNNING], RUN),
    (TR.ONE_FAILED, [UPSTREAM_FAILED, PENDING], RUN),
    (TR.ONE_FAILED, [SUCCESS, FAILED], RUN),
    (TR.ONE_FAILED, [SUCCESS, RUNNING], WAIT),
    (TR.ONE_FAILED, [SUCCESS, RETRY], WAIT),
    (TR.ONE_FAILED, [SUCCESS, SKIPPED], SKIP),
    (TR.ONE_FAILED, [SUCCESS, SUCCESS], SKIP),
    # one_done: fires on the first success or failure
    (TR.ONE_DONE, [SUCCESS, RUNNING], RUN),
    (TR.ONE_DONE, [FAILED, PENDING], RUN),
    (TR.ONE_DONE, [SKIPPED, FAILED], RUN),
    (TR.ONE_DONE, [SKIPPED, RUNNING], WAIT),
    (TR.ONE_DONE, [UPSTREAM_FAILED, RUNNING], WAIT),
    (TR.ONE_DONE, [SKIPPED, SKIPPED], SKIP),
    (TR.ONE_DONE, [SKIPPED, UPSTREAM_FAILED], SKIP),
    # none_failed: no upstream failed or upstream_failed (skipped is fine)
    (TR.NONE_FAILED, [SUCCESS, SKIPPED], RUN),
    (TR.NONE_FAILED, [SKIPPED, SKIPPED], RUN),
    (TR.NONE_FAILED, [SUCCESS, SUCCESS], RUN),
    (TR.NONE_FAILED, [SUCCESS, RUNNING], WAIT),
    (TR.NONE_FAILED, [SKIPPED, PENDING], WAIT),
    (TR.NONE_FAILED, [FAILED, RUNNING], UFAIL),
    (TR.NONE_FAILED, [UPSTREAM_FAILED, SUCCESS], UFAIL),
    # none_failed_min_one_success: as none_failed, and at least one success
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, [SUCCESS, SKIPPED], RUN),
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, [SUCCESS, SUCCESS], RUN),
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, [SKIPPED, SKIPPED], SKIP),
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, [SUCCESS, RUNNING], WAIT),
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, [SKIPPED, PENDING], WAIT),
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, [FAILED, SUCCESS], UFAIL),
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, [UPSTREAM_FAILED, RUNNING], UFAIL),
    # none_skipped: no upstream skipped (failures are fine)
    (TR.NONE_SKIPPED, [SUCCESS, FAILED, UPSTREAM_FAILED], RUN),
    (TR.NONE_SKIPPED, [SUCCESS, SUCCESS], RUN),
    (TR.NONE_SKIPPED, [SUCCESS, RUNNING], WAIT),
    (TR.NONE_SKIPPED, [FAILED, PENDING], WAIT),
    (TR.NONE_SKIPPED, [SKIPPED, RUNNING], SKIP),
    (TR.NONE_SKIPPED, [SUCCESS, SKIPPED], SKIP),
    # always: runs at once, whatever the upstream states
    (TR.ALWAYS, [RUNNING, PENDING], RUN),
    (TR.ALWAYS, [FAILED, SKIPPED], RUN),
    (TR.ALWAYS, [UPSTREAM_FAILED], RUN),
    # all_done_setup_success (a teardown's rule), no setup upstream: as all_done
    # (with setups: tests/definitions/test_setup_teardown.py)
    (TR.ALL_DONE_SETUP_SUCCESS, [SUCCESS, FAILED, SKIPPED], RUN),
    (TR.ALL_DONE_SETUP_SUCCESS, [FAILED, RUNNING], WAIT),
]


def _decide(rule: TriggerRule, states: list[TaskInstanceState | None]) -> Decision:
    counts = Counter(s for s in states if s is not None)
    return evaluate(rule, counts, len(states))


def _row_id(row: tuple[TriggerRule, list[TaskInstanceState | None], Decision]) -> str:
    rule, states, expected = row
    return f"{rule.value}-[{','.join(str(s or 'none') for s in states)}]-{expected.name}"


@pytest.mark.parametrize(("rule", "states", "expected"), TABLE, ids=[_row_id(r) for r in TABLE])
def test_trigger_rule_decision(rule: TriggerRule, states: list[TaskInstanceState | None], expected: Decision) -> None:
    assert _decide(rule, states) is expected


def test_table_covers_every_rule_and_decision() -> None:
    assert {row[0] for row in TABLE} == set(TriggerRule)
    assert {row[2] for row in TABLE} == set(Decision)


@pytest.mark.parametrize("rule", list(TriggerRule))
def test_task_without_upstream_always_runs(rule: TriggerRule) -> None:
    assert evaluate(rule, Counter(), 0) is RUN


@pytest.mark.parametrize("rule", [r for r in TriggerRule if r is not TR.ALWAYS])
def test_nothing_finished_yet_means_wait(rule: TriggerRule) -> None:
    assert _decide(rule, [PENDING, RUNNING, QUEUED]) is WAIT


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (TR.ALL_SUCCESS, RUN),
        (TR.ALL_FAILED, SKIP),
        (TR.ALL_DONE, RUN),
        (TR.ALL_SKIPPED, SKIP),
        (TR.ONE_SUCCESS, RUN),
        (TR.ONE_FAILED, SKIP),
        (TR.ONE_DONE, RUN),
        (TR.NONE_FAILED, RUN),
        (TR.NONE_FAILED_MIN_ONE_SUCCESS, RUN),
        (TR.NONE_SKIPPED, RUN),
        (TR.ALWAYS, RUN),
    ],
)
def test_every_upstream_succeeded(rule: TriggerRule, expected: Decision) -> None:
    assert _decide(rule, [SUCCESS] * 3) is expected


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (TR.ALL_SUCCESS, SKIP),
        (TR.ALL_FAILED, SKIP),
        (TR.ALL_DONE, RUN),
        (TR.ALL_SKIPPED, RUN),
        (TR.ONE_SUCCESS, SKIP),
        (TR.ONE_FAILED, SKIP),
        (TR.ONE_DONE, SKIP),
        (TR.NONE_FAILED, RUN),
        (TR.NONE_FAILED_MIN_ONE_SUCCESS, SKIP),
        (TR.NONE_SKIPPED, SKIP),
        (TR.ALWAYS, RUN),
    ],
)
def test_every_upstream_skipped(rule: TriggerRule, expected: Decision) -> None:
    assert _decide(rule, [SKIPPED] * 3) is expected


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (TR.ALL_SUCCESS, UFAIL),
        (TR.ALL_FAILED, RUN),
        (TR.ALL_DONE, RUN),
        (TR.ALL_SKIPPED, SKIP),
        (TR.ONE_SUCCESS, UFAIL),
        (TR.ONE_FAILED, RUN),
        (TR.ONE_DONE, RUN),
        (TR.NONE_FAILED, UFAIL),
        (TR.NONE_FAILED_MIN_ONE_SUCCESS, UFAIL),
        (TR.NONE_SKIPPED, RUN),
        (TR.ALWAYS, RUN),
    ],
)
def test_every_upstream_failed(rule: TriggerRule, expected: Decision) -> None:
    assert _decide(rule, [FAILED] * 3) is expected


def test_many_mapped_upstream_instances_are_counted() -> None:
    states: list[TaskInstanceState | None] = [SUCCESS] * 999 + [RUNNING]
    assert _decide(TR.ALL_SUCCESS, states) is WAIT
    assert _decide(TR.ALL_SUCCESS, [SUCCESS] * 1000) is RUN
    assert _decide(TR.ONE_FAILED, [SUCCESS] * 999 + [FAILED]) is RUN
