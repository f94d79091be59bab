"""Retry policies decide per exception (tests/examples/test_retry_policy.py). Runs unchanged on
Airflow 3.3.2 and on tradewind."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, ExceptionRetryPolicy, RetryAction, RetryDecision, RetryPolicy, RetryRule, task

POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(exception=PermissionError, action=RetryAction.FAIL, reason="no access: retrying will not help"),
        RetryRule(exception=[ConnectionError, "builtins.TimeoutError"], retry_delay=timedelta(seconds=0)),
        RetryRule(exception="builtins.LookupError", action=RetryAction.DEFAULT, match_subclasses=False),
        RetryRule(exception="no_such_package.SomeError", action=RetryAction.FAIL),
    ],
)


class TriesTwice(RetryPolicy):
    def evaluate(self, exception, try_number, max_tries, context=None):
        if try_number >= 2:
            return RetryDecision.fail(f"gave up on try {try_number} of {max_tries}")
        return RetryDecision.retry(timedelta(seconds=0), "one more try")


class Broken(RetryPolicy):
    def evaluate(self, exception, try_number, max_tries, context=None):
        raise RuntimeError("the policy itself is broken")


with DAG("retry_policies", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):

    @task(retries=3, retry_delay=timedelta(seconds=0), retry_policy=POLICY)
    def no_access():
        raise PermissionError("denied")

    @task(retries=2, retry_delay=timedelta(hours=1), retry_policy=POLICY)
    def flaky_network(ti=None):
        if ti.try_number < 3:
            raise TimeoutError(f"try {ti.try_number} timed out")
        return f"answered on try {ti.try_number}"

    @task(retries=1, retry_delay=timedelta(seconds=0), retry_policy=POLICY)
    def not_matched():
        raise KeyError("a subclass of LookupError: the exact-type rule does not match it")

    @task(retries=4, retry_delay=timedelta(seconds=0), retry_policy=TriesTwice())
    def own_policy():
        raise ValueError("always")

    @task(retries=1, retry_delay=timedelta(seconds=0), retry_policy=Broken())
    def broken_policy():
        raise ValueError("always")

    no_access()
    flaky_network()
    not_matched()
    own_policy()
    broken_policy()
