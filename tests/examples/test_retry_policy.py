"""retry_policy= (Airflow 3.3's retry policies) decides per exception whether a failed try is
retried, after which delay, or fails at once. tests/examples/dags/retry_policies.py runs unchanged
on a real Airflow 3.3.2; ``airflow dags test retry_policies 2026-11-29`` gave the states, try
numbers and return values below (read from its metadata database)."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.retry_policy import ExceptionRetryPolicy, RetryAction, RetryDecision, RetryRule
from tradewind.definitions.states import TaskInstanceState
from tradewind.loader import load_dags
from tradewind.runtime.durable import result_from_log, result_line
from tradewind.runtime.work import TaskResult
from tradewind.scheduler.dag_test import test_dag as run_dag

DAGS = Path(__file__).parent / "dags"
AIRFLOW_3_3_2 = {  # task -> (state, try_number, return value)
    "no_access": ("failed", 1, None),  # the FAIL rule: no retry although retries=3
    "flaky_network": ("success", 3, "answered on try 3"),  # the rule's 0s delay, not retry_delay=1h
    "not_matched": ("failed", 2, None),  # match_subclasses=False: KeyError is not LookupError
    "own_policy": ("failed", 2, None),  # a RetryPolicy subclass gives up on try 2 of retries=4
    "broken_policy": ("failed", 2, None),  # a policy that raises counts as none: retries=1 applies
}


def test_retry_policies_decide_as_in_airflow() -> None:
    bag = load_dags(DAGS)
    assert bag.import_errors == {}
    log = io.StringIO()

    state = run_dag(bag.get_dag("retry_policies"), log, logical_date=datetime(2026, 11, 29, tzinfo=UTC))

    assert {r.task_id: (str(r.state), r.try_number, r.return_value) for r in state.records()} == AIRFLOW_3_3_2
    assert str(state.dag_run_state()) == "failed"
    text = log.getvalue()
    assert "{no_access} INFO - Retry policy decision: fail (no access: retrying will not help)" in text
    assert "{own_policy} INFO - Retry policy decision: fail (gave up on try 2 of 4)" in text
    assert "The retry policy failed (RuntimeError: the policy itself is broken); retrying as without it" in text
    assert "Task 'flaky_network' failed on try 1 of 3; retrying in 0s" in text


def test_a_retry_policy_gives_no_import_warning() -> None:
    dag = load_dags(DAGS).get_dag("retry_policies")
    assert dag.import_warnings.messages() == []  # it used to warn "retry_policy is ignored"


POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(exception=PermissionError, action=RetryAction.FAIL, reason="no access"),
        RetryRule(exception=[ConnectionError, "builtins.TimeoutError"], retry_delay=timedelta(seconds=7)),
        RetryRule(exception="builtins.LookupError", action=RetryAction.DEFAULT, match_subclasses=False),
    ],
    default=RetryAction.FAIL,
)


@pytest.mark.parametrize(
    ("exception", "decision"),
    [
        (PermissionError("x"), RetryDecision(RetryAction.FAIL, None, "no access")),
        (
            ConnectionResetError("x"),
            RetryDecision(RetryAction.RETRY, timedelta(seconds=7), "Matched rule for ConnectionResetError"),
        ),
        (TimeoutError("x"), RetryDecision(RetryAction.RETRY, timedelta(seconds=7), "Matched rule for TimeoutError")),
        (LookupError("x"), RetryDecision(RetryAction.DEFAULT, None, "Matched rule for LookupError")),
        (KeyError("x"), RetryDecision(RetryAction.FAIL)),  # exact type only: the default applies
        (ValueError("x"), RetryDecision(RetryAction.FAIL)),
    ],
)
def test_the_first_matching_rule_decides(exception: BaseException, decision: RetryDecision) -> None:
    assert POLICY.evaluate(exception, try_number=1, max_tries=3) == decision


def test_a_rule_names_its_mistakes(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ValueError, match=r"RetryRule\(exception='HTTPError'\): give the exception class or its dotted"):
        RetryRule(exception="HTTPError")
    with pytest.raises(TypeError, match=r"RetryRule\(exception=<class 'int'>\): give an exception class or its"):
        RetryRule(exception=int)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"RetryRule\(action='fail'\): give a RetryAction"):
        RetryRule(exception=ValueError, action="fail")  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        rule = RetryRule(exception="no_such_package.SomeError")
    assert "RetryRule(exception='no_such_package.SomeError'): no such exception class can be imported" in caplog.text
    assert not rule.matches(ValueError("x"))


def test_the_delay_a_policy_chose_survives_in_the_try_log(tmp_path: Path) -> None:
    # a restarted scheduler reads a try's outcome from the end of its log (runtime/durable.py)
    key = TaskInstanceKey("d", "r", "t", try_number=2)
    now = datetime(2026, 11, 29, tzinfo=UTC)
    path = tmp_path / "attempt=2.log"
    for delay in (timedelta(seconds=7), timedelta(0), None):
        path.write_text(result_line(TaskResult(key, TaskInstanceState.FAILED, now, now, retry_delay=delay)))
        read = result_from_log(path, key)
        assert read is not None and read.retry_delay == delay
