"""Trigger rules as one pure function: upstream state counts in, a decision out.

Follows Airflow's semantics: ``upstream_failed`` and ``skipped`` propagate unless the rule says
otherwise, and the ``one_*`` rules may fire before every upstream has finished.
"""

from __future__ import annotations

from collections import Counter
from enum import Enum

from tradewind.definitions.states import TaskInstanceState as S
from tradewind.definitions.states import TriggerRule as TR


class Decision(Enum):
    WAIT = "wait"
    RUN = "run"
    SKIP = "skipped"
    UPSTREAM_FAILED = "upstream_failed"


def evaluate(rule: TR, counts: Counter[S], total: int, setups: Counter[S] | None = None) -> Decision:
    """Decide for a task whose ``total`` upstream instances are in the states ``counts``
    (``setups``: the states of those that are setup tasks, for a teardown's rule)."""
    if rule is TR.ALWAYS or total == 0:
        return Decision.RUN
    success = counts[S.SUCCESS]
    skipped = counts[S.SKIPPED]
    failed = counts[S.FAILED]
    upstream_failed = counts[S.UPSTREAM_FAILED]
    removed = counts[S.REMOVED]
    done = success + skipped + failed + upstream_failed + removed
    all_done = done >= total
    any_failure = failed + upstream_failed > 0

    if rule is TR.ALL_SUCCESS:
        if any_failure:
            return Decision.UPSTREAM_FAILED
        if skipped:
            return Decision.SKIP
        return Decision.RUN if all_done else Decision.WAIT
    if rule is TR.ALL_FAILED:
        if success or skipped:
            return Decision.SKIP
        return Decision.RUN if all_done else Decision.WAIT
    if rule is TR.ALL_DONE:
        return Decision.RUN if all_done else Decision.WAIT
    if rule is TR.ALL_SKIPPED:
        if success or any_failure:
            return Decision.SKIP
        return Decision.RUN if all_done else Decision.WAIT
    if rule is TR.ONE_SUCCESS:
        if success:
            return Decision.RUN
        if all_done:
            return Decision.SKIP if skipped + removed == done else Decision.UPSTREAM_FAILED
        return Decision.WAIT
    if rule is TR.ONE_FAILED:
        if any_failure:
            return Decision.RUN
        return Decision.SKIP if all_done else Decision.WAIT
    if rule is TR.ONE_DONE:
        if success or failed:
            return Decision.RUN
        return Decision.SKIP if all_done else Decision.WAIT
    if rule is TR.NONE_FAILED:
        if any_failure:
            return Decision.UPSTREAM_FAILED
        return Decision.RUN if all_done else Decision.WAIT
    if rule is TR.NONE_FAILED_MIN_ONE_SUCCESS:
        if any_failure:
            return Decision.UPSTREAM_FAILED
        if not all_done:
            return Decision.WAIT
        return Decision.RUN if success else Decision.SKIP
    if rule is TR.ALL_DONE_SETUP_SUCCESS:
        # a teardown: once all is done, runs if one of its setups succeeded
        setup_total = sum(setups.values()) if setups else 0
        if not all_done:
            return Decision.WAIT
        if setup_total and setups and setups[S.SKIPPED] >= setup_total:
            return Decision.SKIP
        if setup_total and setups and not setups[S.SUCCESS]:
            return Decision.UPSTREAM_FAILED
        return Decision.RUN
    if rule is TR.NONE_SKIPPED:
        if skipped:
            return Decision.SKIP
        return Decision.RUN if all_done else Decision.WAIT
    raise ValueError(f"unknown trigger rule {rule!r}")
