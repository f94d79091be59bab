"""Operators that call a Python function: PythonOperator, BranchPythonOperator, ShortCircuitOperator."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from tradewind.definitions.assets import Metadata
from tradewind.definitions.baseoperator import BaseOperator
from tradewind.errors import DagDefinitionError, TradewindError

if TYPE_CHECKING:
    from tradewind.definitions.dag import DAG


def call_with_context(
    fn: Callable[..., Any], args: Iterable[Any], kwargs: Mapping[str, Any], context: Mapping[str, Any]
) -> Any:
    """Call ``fn(*args, **kwargs)``, adding context values for parameters that name them.

    A function with ``**kwargs`` receives the whole context (as in Airflow); otherwise only the
    context keys it declares by name and that the arguments do not already give.
    """
    args = list(args)
    accepts_any, by_keyword, positional = _call_shape(fn)
    filled = set(positional[: len(args)])
    call_kwargs: dict[str, Any] = {}
    for name, value in context.items():
        if name not in filled and (accepts_any or name in by_keyword):
            call_kwargs[name] = value
    call_kwargs.update(kwargs)
    return fn(*args, **call_kwargs)


def _call_shape(fn: Callable[..., Any]) -> tuple[bool, frozenset[str], list[str]]:
    """Whether ``fn`` takes ``**kwargs``, the names it takes by keyword, and its positional
    names in order: worked out once per function (a mapped task calls it once per instance)."""
    try:
        return _call_shape_cached(fn)
    except TypeError:  # not hashable
        return _call_shape_cached.__wrapped__(fn)


@functools.lru_cache(maxsize=4096)
def _call_shape_cached(fn: Callable[..., Any]) -> tuple[bool, frozenset[str], list[str]]:
    params = inspect.signature(fn).parameters
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    by_keyword = frozenset(name for name, p in params.items() if p.kind is not inspect.Parameter.POSITIONAL_ONLY)
    positional = [p.name for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return accepts_any, by_keyword, positional


class PythonCallableMixin:
    """``python_callable`` with ``op_args``, ``op_kwargs`` and ``templates_dict``, as PythonOperator
    and PythonSensor take them: checked when the task is made, called with the context."""

    task_id: str
    python_callable: Callable[..., Any]
    op_args: list[Any]
    op_kwargs: dict[str, Any]
    templates_dict: dict[str, Any] | None

    def _take_callable(
        self,
        python_callable: Callable[..., Any],
        op_args: Iterable[Any] | None,
        op_kwargs: Mapping[str, Any] | None,
        templates_dict: dict[str, Any] | None,
    ) -> None:
        if not callable(python_callable):
            raise DagDefinitionError(
                f"Task '{self.task_id}': python_callable must be callable, got {python_callable!r}"
            )
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self.templates_dict = templates_dict

    def call_python_callable(self, context: Mapping[str, Any]) -> Any:
        extra = {"templates_dict": self.templates_dict} if self.templates_dict is not None else {}
        return call_with_context(self.python_callable, self.op_args, self.op_kwargs, {**context, **extra})


class PythonOperator(PythonCallableMixin, BaseOperator):
    """Call ``python_callable(*op_args, **op_kwargs)``; its return value becomes the XCom."""

    template_fields = ("templates_dict", "op_args", "op_kwargs")
    ui_color = "#ffefeb"

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Iterable[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        templates_dict: dict[str, Any] | None = None,
        templates_exts: list[str] | None = None,
        show_return_value_in_logs: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._take_callable(python_callable, op_args, op_kwargs, templates_dict)
        if templates_exts:
            self.template_ext = tuple(templates_exts)
        self.show_return_value_in_logs = show_return_value_in_logs

    def execute(self, context: dict[str, Any]) -> Any:
        returned = self.call_python_callable(context)
        if inspect.isgeneratorfunction(self.python_callable):
            return _drain(returned, context)
        return returned


def _drain(generator: Any, context: dict[str, Any]) -> Any:
    """A task function that yields (asset ``Metadata``, as in Airflow 3): run it to its end; its
    ``return`` value is the task's, each ``Metadata`` goes to its asset's event (docs/adr/0012)."""
    while True:
        try:
            item = next(generator)
        except StopIteration as stop:
            return stop.value
        if isinstance(item, Metadata) and "outlet_events" in context:
            context["outlet_events"].take(item)
        else:
            print(f"Ignoring a value of type {type(item).__name__} yielded by the task")


class SkipMixin:
    """Lets a task mark tasks downstream of it as skipped (through the running task instance)."""

    task_id: str
    downstream_task_ids: set[str]
    dag: DAG | None

    def _owning_dag(self) -> DAG:
        if self.dag is None:
            raise TradewindError(f"Task '{self.task_id}' must belong to a DAG to skip downstream tasks")
        return self.dag

    def skip_all_except(self, ti: Any, follow: str | Iterable[str] | None) -> None:
        """Skip every direct downstream task except those in ``follow`` (task or group ids)."""
        dag = self._owning_dag()
        wanted = {follow} if isinstance(follow, str) else set(follow or [])
        followed: set[str] = set()
        for name in wanted:
            if dag.has_task(name):
                followed.add(name)
            elif name in dag.used_group_ids:
                followed.update(t.task_id for t in _group(dag, name).roots)
            else:
                raise TradewindError(
                    f"Branch task '{self.task_id}' returned {name!r}, which is not a task or task group "
                    f"of DAG '{dag.dag_id}'"
                )
        ti.skip_tasks(sorted(self.downstream_task_ids - followed))


def _group(dag: Any, group_id: str) -> Any:
    for group in _walk_groups(dag.task_group):
        if group.group_id == group_id:
            return group
    raise KeyError(group_id)


def _walk_groups(group: Any) -> Iterable[Any]:
    yield group
    for child in group.children.values():
        if hasattr(child, "children"):
            yield from _walk_groups(child)


class BranchPythonOperator(PythonOperator, SkipMixin):
    """The callable returns the task id(s) to follow; the other direct downstream tasks are skipped."""

    def execute(self, context: dict[str, Any]) -> Any:
        branch = super().execute(context)
        self.skip_all_except(context["ti"], branch)
        return branch


class ShortCircuitOperator(PythonOperator, SkipMixin):
    """A falsy return value skips what follows: every downstream task, or with
    ``ignore_downstream_trigger_rules=False`` only the direct ones (the rest follow their trigger rules)."""

    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules

    def execute(self, context: dict[str, Any]) -> Any:
        condition = super().execute(context)
        if condition:
            print(f"Condition is truthy ({condition!r}): downstream tasks proceed")
            return condition
        if self.ignore_downstream_trigger_rules:
            to_skip = self._all_downstream()
        else:
            to_skip = set(self.downstream_task_ids)
        print(f"Condition is falsy ({condition!r}): skipping {len(to_skip)} downstream task(s)")
        context["ti"].skip_tasks(sorted(to_skip))
        return condition

    def _all_downstream(self) -> set[str]:
        found: set[str] = set()
        pending = list(self.downstream_task_ids)
        while pending:
            task_id = pending.pop()
            if task_id not in found:
                found.add(task_id)
                pending.extend(self._owning_dag().task_dict[task_id].downstream_task_ids)
        return found
