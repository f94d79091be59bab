"""Weight rules: how a task's priority weight is worked out (``weight_rule=``).

Airflow's three rules are names: ``"downstream"`` (the default: the task's ``priority_weight``
plus that of every task downstream of it), ``"upstream"`` and ``"absolute"``. Airflow 3 also
takes a :class:`PriorityWeightStrategy` — an instance, or the dotted path of its class — whose
``get_weight(ti)`` gives the weight. Airflow registers such a class through a plugin and calls
it in the scheduler; tradewind's scheduler never runs DAG code, so a strategy needs no plugin
and is called once per task when the DAG file is imported, with the task instance as Airflow
creates it (``map_index`` -1, ``try_number`` 0). Its weight is stored with the DAG. See
docs/adr/0011 part F.

    >>> class Heavy(PriorityWeightStrategy):
    ...     def get_weight(self, ti):
    ...         return 10
    >>> parse_weight_rule(Heavy(), "t").get_weight(None)
    10
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from tradewind.errors import DagDefinitionError

BUILT_IN = ("downstream", "upstream", "absolute")
# Airflow's own classes for the three rules, by dotted path
_AIRFLOW_BUILT_IN = {
    "airflow.task.priority_strategy._DownstreamPriorityWeightStrategy": "downstream",
    "airflow.task.priority_strategy._UpstreamPriorityWeightStrategy": "upstream",
    "airflow.task.priority_strategy._AbsolutePriorityWeightStrategy": "absolute",
}


class PriorityWeightStrategy(ABC):
    """A custom weight rule: ``get_weight(ti)`` returns the priority weight of a task instance.

    It must not keep state (Airflow's rule too); equal when of the same class and ``serialize()``.
    """

    @abstractmethod
    def get_weight(self, ti: Any) -> int:
        """The weight of ``ti``."""

    def serialize(self) -> dict[str, Any]:
        return {}

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.serialize() == other.serialize()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(type(self).__qualname__)


@dataclass(frozen=True)
class TaskAtCreation:
    """What a strategy's ``get_weight`` sees: the task instance as Airflow creates it."""

    task: Any
    dag_id: str | None
    task_id: str
    map_index: int = -1
    try_number: int = 0
    run_id: str | None = None


def _text(value: Any) -> str:
    return str(getattr(value, "value", value))  # a WeightRule enum member as its text


def parse_weight_rule(value: Any, task_id: str) -> str | PriorityWeightStrategy:
    """``weight_rule=`` as given: one of the three names, a strategy instance or class, or the
    dotted path of a strategy class (imported here, as Airflow does)."""
    if isinstance(value, PriorityWeightStrategy):
        return value
    if isinstance(value, type) and issubclass(value, PriorityWeightStrategy):
        return value()
    text = _text(value)
    if text in BUILT_IN:
        return text
    if text in _AIRFLOW_BUILT_IN:
        return _AIRFLOW_BUILT_IN[text]
    fix = (
        f"use one of {', '.join(repr(n) for n in BUILT_IN)}, or a PriorityWeightStrategy subclass "
        "(an instance, or the dotted path of the class)"
    )
    if not isinstance(value, str) or "." not in text:
        raise DagDefinitionError(f"Task '{task_id}': weight_rule {value!r} is not a weight rule: {fix}")
    module_name, _, class_name = text.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise DagDefinitionError(f"Task '{task_id}': weight_rule {text!r} cannot be imported ({exc}): {fix}") from None
    if not (isinstance(found, type) and issubclass(found, PriorityWeightStrategy)):
        raise DagDefinitionError(f"Task '{task_id}': weight_rule {text!r} is not a PriorityWeightStrategy: {fix}")
    return found()


def custom_weight(task: Any) -> int | None:
    """The weight a custom strategy gives ``task`` (None for the three named rules)."""
    rule = task.weight_rule
    if not isinstance(rule, PriorityWeightStrategy):
        return None
    dag = getattr(task, "dag", None)
    weight = rule.get_weight(TaskAtCreation(task, dag.dag_id if dag is not None else None, task.task_id))
    if not isinstance(weight, int) or isinstance(weight, bool):
        raise DagDefinitionError(
            f"Task '{task.task_id}': {type(rule).__name__}.get_weight() returned {weight!r}: it must return an int"
        )
    return weight


def rule_name(rule: str | PriorityWeightStrategy) -> str:
    """How the rule is shown and stored: its name, or the strategy's dotted class path."""
    if isinstance(rule, PriorityWeightStrategy):
        return f"{type(rule).__module__}.{type(rule).__qualname__}"
    return rule
