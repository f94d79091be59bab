"""TaskFlow: ``@task`` turns a function into a task factory whose calls return XComArgs.

>>> @task
... def double(x: int) -> int:
...     return x * 2
>>> double.expand(x=[1, 2, 3])      # three instances at run time
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

from tradewind.definitions import _context
from tradewind.definitions.baseoperator import BaseOperator
from tradewind.definitions.context_keys import with_optional_context_keys
from tradewind.definitions.mapping import (
    UNMAPPABLE_ARGUMENTS,
    DictOfListsExpandInput,
    ListOfDictsExpandInput,
    MappedOperator,
    check_expand_call,
    check_mapped_value,
    function_argument_check,
)
from tradewind.definitions.operators.bash import BashOperator
from tradewind.definitions.operators.external_python import (
    DecoratedBranchExternalPythonOperator,
    DecoratedBranchVirtualenvOperator,
    DecoratedExternalPythonOperator,
    DecoratedVirtualenvOperator,
)
from tradewind.definitions.operators.python import (
    BranchPythonOperator,
    PythonOperator,
    ShortCircuitOperator,
    call_with_context,
)
from tradewind.definitions.sensors import DecoratedSensorOperator
from tradewind.definitions.xcom_arg import XComArg
from tradewind.errors import MappingError, TaskSkipped


class DecoratedPythonOperator(PythonOperator):
    """The operator behind ``@task``: the function's arguments travel as ``op_args``/``op_kwargs``."""

    custom_operator_name = "@task"


class DecoratedBranchOperator(BranchPythonOperator):
    custom_operator_name = "@task.branch"


class DecoratedShortCircuitOperator(ShortCircuitOperator):
    custom_operator_name = "@task.short_circuit"


class DecoratedBashOperator(BashOperator):
    """``@task.bash``: the function returns the command to run."""

    custom_operator_name = "@task.bash"
    template_fields = ("bash_command", "env", "cwd", "op_args", "op_kwargs")

    def __init__(
        self, *, python_callable: Callable[..., Any], op_args: Any = None, op_kwargs: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(bash_command="", **kwargs)
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})

    def execute(self, context: dict[str, Any]) -> Any:
        command = call_with_context(self.python_callable, self.op_args, self.op_kwargs, context)
        if not isinstance(command, str) or not command.strip():
            raise TypeError(f"@task.bash function '{self.task_id}' must return a non-empty command string")
        self.bash_command = command
        return super().execute(context)


def _infers_multiple_outputs(fn: Callable[..., Any]) -> bool:
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # unresolvable annotations: do not guess
        return False
    returns = hints.get("return")
    origin = typing.get_origin(returns) or returns
    return origin in (dict, Mapping, typing.Dict)  # noqa: UP006


def _unique_task_id(task_id: str) -> str:
    """``fn``, then ``fn__1``, ``fn__2`` ... when the same function is called again in one DAG."""
    dag = _context.current_dag()
    if dag is None:
        return task_id
    group = _context.current_group(dag) or dag.task_group
    if group.child_id(task_id) not in dag.task_dict:
        return task_id
    suffix = 1
    while group.child_id(f"{task_id}__{suffix}") in dag.task_dict:
        suffix += 1
    return f"{task_id}__{suffix}"


class TaskFunction:
    """What ``@task`` returns. Call it inside a DAG to add a task; ``partial``/``expand`` to map it."""

    def __init__(
        self,
        function: Callable[..., Any],
        operator_class: type[BaseOperator],
        task_kwargs: dict[str, Any],
        partial_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.function = function
        self.operator_class = operator_class
        self.task_kwargs = task_kwargs
        self.partial_kwargs = dict(partial_kwargs or {})
        self.signature = with_optional_context_keys(inspect.signature(function))
        functools.update_wrapper(self, function)

    @property
    def name(self) -> str:
        return self.task_kwargs.get("task_id") or self.function.__name__

    def _operator_kwargs(self) -> dict[str, Any]:
        kwargs = dict(self.task_kwargs)
        kwargs["task_id"] = _unique_task_id(self.name)
        if "multiple_outputs" not in kwargs:
            kwargs["multiple_outputs"] = _infers_multiple_outputs(self.function)
        return kwargs

    def __call__(self, *args: Any, **kwargs: Any) -> XComArg:
        try:
            self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self.name}(): {exc}") from None
        operator = self.operator_class(
            python_callable=self.function, op_args=args, op_kwargs=kwargs, **self._operator_kwargs()
        )
        return operator.output

    def override(self, **task_kwargs: Any) -> TaskFunction:
        """The same function with other task arguments (``task_id``, ``retries``, ...)."""
        return TaskFunction(
            self.function, self.operator_class, {**self.task_kwargs, **task_kwargs}, self.partial_kwargs
        )

    # -- mapping
    def _check_names(self, call: str, names: Any) -> None:
        check = function_argument_check(f"{self.name}.{call}", self.signature, UNMAPPABLE_ARGUMENTS)
        for name in names:
            check(name)

    def partial(self, *args: Any, **kwargs: Any) -> TaskFunction:
        """Fix arguments shared by every mapped instance; follow with ``.expand(...)``."""
        if args:
            raise MappingError(f"{self.name}.partial() takes keyword arguments only, got {len(args)} positional")
        self._check_names("partial", kwargs)
        for name in kwargs:
            if name in self.partial_kwargs:
                raise MappingError(f"{self.name}.partial() got multiple values for argument {name!r}")
        return TaskFunction(self.function, self.operator_class, self.task_kwargs, {**self.partial_kwargs, **kwargs})

    def expand(self, *args: Any, **mapped: Any) -> XComArg:
        """One task instance per element (the cartesian product for several arguments)."""
        call = f"{self.name}.expand"
        check_name = function_argument_check(call, self.signature, UNMAPPABLE_ARGUMENTS)
        check_expand_call(call, args, mapped, self.partial_kwargs, check_name)
        self._check_missing(set(mapped))
        return self._mapped(DictOfListsExpandInput(dict(mapped))).output

    def expand_kwargs(self, kwargs: Any) -> XComArg:
        """One task instance per dict of arguments (a literal list of dicts or a task's output)."""
        call = f"{self.name}.expand_kwargs"
        if isinstance(kwargs, XComArg):
            check_mapped_value(call, "kwargs", kwargs)
        elif isinstance(kwargs, (list, tuple)):
            for item in kwargs:
                if isinstance(item, XComArg):
                    continue
                if not isinstance(item, Mapping):
                    raise MappingError(f"{call}() takes a list of dicts, got an item of type {type(item).__name__!r}")
                self._check_names("expand_kwargs", item)
                for name in item:
                    if name in self.partial_kwargs:
                        raise MappingError(f"{call}() got an argument {name!r} that was already given to partial()")
        else:
            raise MappingError(f"{call}() takes a list of dicts or a task's output, got {type(kwargs).__name__!r}")
        return self._mapped(ListOfDictsExpandInput(kwargs)).output

    def _check_missing(self, mapped: set[str]) -> None:
        given = mapped | set(self.partial_kwargs)
        missing = [
            p.name
            for p in self.signature.parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in given
        ]
        if missing:
            raise MappingError(f"{self.name}.expand() is missing required argument(s): {', '.join(missing)}")

    def _mapped(self, expand_input: DictOfListsExpandInput | ListOfDictsExpandInput) -> MappedOperator:
        kwargs = self._operator_kwargs()
        kwargs.update(python_callable=self.function, op_kwargs=dict(self.partial_kwargs))
        return MappedOperator(self.operator_class, kwargs, expand_input, expand_into="op_kwargs")


class _TaskDecorators:
    """``@task``, ``@task(...)``, ``@task.python``, ``@task.branch``, ``@task.short_circuit``, ``@task.bash``."""

    def _make(self, operator_class: Any, fn: Callable[..., Any] | None, kwargs: dict[str, Any]) -> Any:
        if fn is not None:
            return TaskFunction(fn, operator_class, kwargs)
        return lambda f: TaskFunction(f, operator_class, kwargs)

    def __call__(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        return self._make(DecoratedPythonOperator, python_callable, kwargs)

    def python(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        return self._make(DecoratedPythonOperator, python_callable, kwargs)

    def branch(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        return self._make(DecoratedBranchOperator, python_callable, kwargs)

    def short_circuit(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        return self._make(DecoratedShortCircuitOperator, python_callable, kwargs)

    def bash(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        return self._make(DecoratedBashOperator, python_callable, kwargs)

    def sensor(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        """The function is the sensor's ``poke``: True or a ``PokeReturnValue`` ends the wait."""
        return self._make(DecoratedSensorOperator, python_callable, kwargs)

    def external_python(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        """Run the function in another Python interpreter (``python=`` its path)."""
        return self._make(DecoratedExternalPythonOperator, python_callable, kwargs)

    def virtualenv(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        """Run the function in a fresh virtual environment with ``requirements`` installed."""
        return self._make(DecoratedVirtualenvOperator, python_callable, kwargs)

    def branch_external_python(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        """``@task.branch`` run in another Python interpreter (``python=`` its path)."""
        return self._make(DecoratedBranchExternalPythonOperator, python_callable, kwargs)

    def branch_virtualenv(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        """``@task.branch`` run in a fresh virtual environment."""
        return self._make(DecoratedBranchVirtualenvOperator, python_callable, kwargs)

    @staticmethod
    def run_if(condition: Callable[[dict[str, Any]], Any], skip_message: str | None = None) -> Any:
        """Over ``@task``: run the task only when ``condition(context)`` is true, else skip it."""
        return _conditional("run_if", condition, skip_message, run_when=True)

    @staticmethod
    def skip_if(condition: Callable[[dict[str, Any]], Any], skip_message: str | None = None) -> Any:
        """Over ``@task``: skip the task when ``condition(context)`` is true."""
        return _conditional("skip_if", condition, skip_message, run_when=False)


def _conditional(name: str, condition: Callable[[dict[str, Any]], Any], message: str | None, run_when: bool) -> Any:
    if not callable(condition):
        raise TypeError(f"@task.{name}() takes a function of the context, got {type(condition).__name__}")

    def decorate(task_function: Any) -> TaskFunction:
        if not isinstance(task_function, TaskFunction):
            raise TypeError(f"@task.{name} must be placed above @task (decorate the function with @task first)")
        previous = task_function.task_kwargs.get("pre_execute")

        def check(context: dict[str, Any]) -> None:
            if bool(condition(context)) is not run_when:
                raise TaskSkipped(message or f"{name} condition of task '{context['ti'].task_id}' said to skip")
            if previous is not None:
                previous(context)

        return task_function.override(pre_execute=check)

    return decorate


task = _TaskDecorators()


class _SetupTeardownFunction(TaskFunction):
    """What ``@setup`` and ``@teardown`` return: each call adds a setup (or teardown) task."""

    role = "setup"
    on_failure_fail_dagrun: bool | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> XComArg:
        output = super().__call__(*args, **kwargs)
        if self.role == "setup":
            return output.as_setup()
        return output.as_teardown(on_failure_fail_dagrun=self.on_failure_fail_dagrun)

    def override(self, **task_kwargs: Any) -> TaskFunction:
        copy = _SetupTeardownFunction(
            self.function, self.operator_class, {**self.task_kwargs, **task_kwargs}, self.partial_kwargs
        )
        copy.role, copy.on_failure_fail_dagrun = self.role, self.on_failure_fail_dagrun
        return copy


def setup(python_callable: Callable[..., Any] | TaskFunction | None = None, **kwargs: Any) -> Any:
    """``@setup``: a task that prepares what others use (see setup_teardown.py). Also over ``@task.bash``."""

    def decorate(fn: Callable[..., Any] | TaskFunction) -> _SetupTeardownFunction:
        return _role_function(fn, "setup", None, kwargs)

    return decorate(python_callable) if python_callable is not None else decorate


def teardown(
    python_callable: Callable[..., Any] | TaskFunction | None = None,
    *,
    on_failure_fail_dagrun: bool = False,
    **kwargs: Any,
) -> Any:
    """``@teardown``: a task that releases what a setup prepared; it runs even when work fails."""

    def decorate(fn: Callable[..., Any] | TaskFunction) -> _SetupTeardownFunction:
        return _role_function(fn, "teardown", on_failure_fail_dagrun, kwargs)

    return decorate(python_callable) if python_callable is not None else decorate


def _role_function(
    fn: Callable[..., Any] | TaskFunction, role: str, fail_dagrun: bool | None, kwargs: dict[str, Any]
) -> _SetupTeardownFunction:
    if isinstance(fn, TaskFunction):  # @setup over @task.bash and the like
        made = _SetupTeardownFunction(fn.function, fn.operator_class, {**fn.task_kwargs, **kwargs}, fn.partial_kwargs)
    else:
        made = _SetupTeardownFunction(fn, DecoratedPythonOperator, kwargs)
    made.role, made.on_failure_fail_dagrun = role, fail_dagrun
    return made
