"""Retry policies: a task's ``retry_policy=`` looks at the exception of a failed try and decides
to fail at once, to retry (perhaps after another delay), or to leave it to ``retries``.

As in Airflow 3.3: the policy is asked in the worker, with the exception itself; a policy can end
the retries early but never add tries beyond ``retries``; ``AirflowFailException`` and
``AirflowSensorTimeout`` fail without asking it; a policy that raises counts as no policy. The
scheduler only sees the decision (``TaskResult.retryable`` and ``retry_delay``)::

    from datetime import timedelta
    from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule, task

    policy = ExceptionRetryPolicy(
        rules=[
            RetryRule(exception=ConnectionError, retry_delay=timedelta(seconds=30)),
            RetryRule(exception="builtins.PermissionError", action=RetryAction.FAIL),
        ]
    )

    @task(retries=5, retry_policy=policy)
    def call_api(): ...
"""

from __future__ import annotations

import abc
import importlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["ExceptionRetryPolicy", "RetryAction", "RetryDecision", "RetryPolicy", "RetryRule"]


class RetryAction(Enum):
    """What a policy decides for a failed try."""

    RETRY = "retry"  # retry, if ``retries`` leaves a try (the delay may be the rule's own)
    FAIL = "fail"  # fail now, whatever ``retries`` says
    DEFAULT = "default"  # as without a policy


@dataclass(frozen=True)
class RetryDecision:
    action: RetryAction = RetryAction.DEFAULT
    retry_delay: timedelta | None = None  # None: the task's retry_delay rule
    reason: str | None = None  # written to the task's log

    @classmethod
    def fail(cls, reason: str | None = None) -> RetryDecision:
        return cls(RetryAction.FAIL, None, reason)

    @classmethod
    def retry(cls, delay: timedelta | None = None, reason: str | None = None) -> RetryDecision:
        return cls(RetryAction.RETRY, delay, reason)

    @classmethod
    def default(cls) -> RetryDecision:
        return cls()


class RetryPolicy(abc.ABC):
    """Subclass and implement :meth:`evaluate` for a policy of your own."""

    @abc.abstractmethod
    def evaluate(
        self, exception: BaseException, try_number: int, max_tries: int, context: Any = None
    ) -> RetryDecision: ...


def _import_exception(path: str) -> type[BaseException] | None:
    module, _, name = path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


@dataclass
class RetryRule:
    """One rule: exceptions (a class, a dotted path like ``"requests.exceptions.HTTPError"``, or a
    list of them) and what to do when the failure is one of them."""

    exception: type[BaseException] | str | list[type[BaseException] | str]
    action: RetryAction = RetryAction.RETRY
    retry_delay: timedelta | None = None
    reason: str | None = None
    match_subclasses: bool = True

    def __post_init__(self) -> None:
        for spec in self._specs:
            if isinstance(spec, str) and "." not in spec:
                raise ValueError(
                    f"RetryRule(exception={spec!r}): give the exception class or its dotted import path, "
                    f"for example 'builtins.{spec or 'ValueError'}'"
                )
            if not isinstance(spec, str) and not (isinstance(spec, type) and issubclass(spec, BaseException)):
                raise TypeError(f"RetryRule(exception={spec!r}): give an exception class or its dotted import path")
            if isinstance(spec, str) and _import_exception(spec) is None:
                log.warning(
                    "RetryRule(exception=%r): no such exception class can be imported here; the rule matches "
                    "nothing where it cannot be imported (check the spelling)",
                    spec,
                )
        if not isinstance(self.action, RetryAction):
            raise TypeError(f"RetryRule(action={self.action!r}): give a RetryAction (RETRY, FAIL or DEFAULT)")

    @property
    def _specs(self) -> list[type[BaseException] | str]:
        return list(self.exception) if isinstance(self.exception, list) else [self.exception]

    def classes(self) -> tuple[type[BaseException], ...]:
        """The rule's exception classes; a path that cannot be imported (the package is not
        installed where the task runs) matches nothing, as in Airflow."""
        found = [spec if isinstance(spec, type) else _import_exception(spec) for spec in self._specs]
        return tuple(cls for cls in found if cls is not None)

    def matches(self, exception: BaseException) -> bool:
        classes = self.classes()
        if self.match_subclasses:
            return isinstance(exception, classes)
        return type(exception) in classes


class ExceptionRetryPolicy(RetryPolicy):
    """Rules tried in order; the first that matches decides, else ``default``."""

    def __init__(self, rules: list[RetryRule], default: RetryAction = RetryAction.DEFAULT) -> None:
        self.rules = list(rules)
        self.default = default

    def evaluate(self, exception: BaseException, try_number: int, max_tries: int, context: Any = None) -> RetryDecision:
        for rule in self.rules:
            if rule.matches(exception):
                reason = rule.reason or f"Matched rule for {type(exception).__name__}"
                return RetryDecision(rule.action, rule.retry_delay, reason)
        return RetryDecision(self.default)

    def __repr__(self) -> str:
        return f"ExceptionRetryPolicy(rules={self.rules!r}, default={self.default})"
