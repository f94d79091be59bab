"""The DAG: a named graph of tasks with a schedule. Use it as a context manager or via ``@dag``."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tradewind.definitions import _context, assets, compat_warnings, taskflow
from tradewind.definitions.abstractoperator import validate_id
from tradewind.definitions.compat_warnings import ImportWarnings
from tradewind.definitions.params import DagParam, Param, check_defaults
from tradewind.definitions.taskgroup import TaskGroup
from tradewind.definitions.timetables import Timetable, current_schedule_defaults, timetable_for
from tradewind.definitions.timetables.simple import NullTimetable
from tradewind.errors import DagDefinitionError, TaskNotFound

if TYPE_CHECKING:
    from tradewind.definitions.abstractoperator import AbstractOperator

_NOTSET: Any = object()


def as_utc_aware(value: datetime | None, what: str) -> datetime | None:
    """Naive datetimes are taken as UTC; pendulum and other aware datetimes keep their zone."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise DagDefinitionError(f"{what} must be a datetime, got {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class DAG:
    """A workflow: tasks, their dependencies and when to run them.

    >>> with DAG("etl", start_date=datetime(2025, 1, 1), schedule="@daily") as dag:
    ...     extract >> load
    """

    def __init__(
        self,
        dag_id: str,
        description: str | None = None,
        schedule: Any = _NOTSET,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        default_args: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        max_active_tasks: int = 16,
        max_active_runs: int = 16,
        catchup: bool = False,
        tags: Iterable[str] | None = None,
        doc_md: str | None = None,
        dagrun_timeout: timedelta | None = None,
        render_template_as_native_obj: bool = False,
        template_searchpath: str | Iterable[str] | None = None,
        user_defined_macros: dict[str, Any] | None = None,
        user_defined_filters: dict[str, Any] | None = None,
        is_paused_upon_creation: bool | None = None,
        on_success_callback: Any = None,
        on_failure_callback: Any = None,
        fail_stop: bool = False,
        dag_display_name: str | None = None,
        schedule_interval: Any = _NOTSET,
        concurrency: int | None = None,
        owner_links: dict[str, str] | None = None,
        access_control: Any = None,
        auto_register: bool = True,
        jinja_environment_kwargs: dict[str, Any] | None = None,
        max_consecutive_failed_dag_runs: int = 0,
        timetable: Timetable | None = None,
        fail_fast: bool = False,
        sla_miss_callback: Any = None,
        deadline: Any = None,
        default_view: str | None = None,
        orientation: str | None = None,
        template_undefined: Any = None,
        disable_bundle_versioning: bool = False,
    ) -> None:
        self.dag_id = validate_id(dag_id, "dag_id")
        self.import_warnings = ImportWarnings()
        for name in compat_warnings.given(locals(), compat_warnings.DAG_ARGUMENTS):
            self.import_warnings.dag_argument(name)
        self.fail_fast = fail_fast
        self.template_undefined = template_undefined
        self.edge_info: dict[tuple[str, str], dict[str, str]] = {}
        if schedule is not _NOTSET and schedule_interval is not _NOTSET:
            raise DagDefinitionError(
                f"DAG '{dag_id}': pass schedule or schedule_interval, not both (schedule_interval is its old name)"
            )
        old_argument = schedule is _NOTSET and (schedule_interval is not _NOTSET or timetable is not None)
        if schedule is _NOTSET:
            schedule = schedule_interval if schedule_interval is not _NOTSET else timetable
        self.schedule = schedule
        self.default_args = dict(default_args or {})
        self.start_date = as_utc_aware(start_date or self.default_args.get("start_date"), f"DAG '{dag_id}': start_date")
        self.end_date = as_utc_aware(end_date or self.default_args.get("end_date"), f"DAG '{dag_id}': end_date")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise DagDefinitionError(f"DAG '{dag_id}': end_date {self.end_date} is before start_date {self.start_date}")
        self.timezone = self.start_date.tzinfo if self.start_date else UTC
        self.timetable = timetable_for(
            assets.schedule_of(schedule, self.import_warnings), self.timezone, schedule_interval=old_argument
        )
        self.asset_condition = assets.asset_condition(schedule)  # data-aware scheduling (docs/adr/0012)
        # a manual run triggered without a logical date gets the trigger time as one (Airflow 2),
        # or none and no data interval for a DAG of a file written for Airflow 3 (docs/adr/0008)
        self.logical_date_on_trigger = not current_schedule_defaults().airflow3 or old_argument
        self.description = description
        self.params: dict[str, Any] = dict(params or {})
        # as Airflow: default_args' params join the DAG's (and win), so a run's conf is checked against them
        self.params.update(self.default_args.pop("params", None) or {})
        # a default that breaks its schema is an import error (docs/adr/0011-airflow-surface-and-warnings.md)
        check_defaults(dag_id, self.params, scheduled=not isinstance(self.timetable, NullTimetable))
        self.max_active_tasks = concurrency if concurrency is not None else max_active_tasks
        self.max_active_runs = max_active_runs
        limit = self.timetable.active_runs_limit
        if limit is not None and max_active_runs > limit:
            raise DagDefinitionError(
                f"DAG '{dag_id}': schedule {self.timetable.summary} runs at most {limit} run at a time; "
                f"pass max_active_runs={limit} (got {max_active_runs})"
            )
        self.catchup = catchup
        self.tags = sorted(set(tags or []))
        self.doc_md = doc_md
        self.dagrun_timeout = dagrun_timeout
        self.render_template_as_native_obj = render_template_as_native_obj
        searchpath = [template_searchpath] if isinstance(template_searchpath, str) else template_searchpath
        self.template_searchpath = list(searchpath or [])
        self.user_defined_macros = dict(user_defined_macros or {})
        self.user_defined_filters = dict(user_defined_filters or {})
        self.jinja_environment_kwargs = dict(jinja_environment_kwargs or {})
        self.is_paused_upon_creation = is_paused_upon_creation
        self.on_success_callback = on_success_callback
        self.on_failure_callback = on_failure_callback
        self.fail_stop = fail_stop
        self.dag_display_name = dag_display_name or dag_id
        self.owner_links = dict(owner_links or {})
        self.auto_register = auto_register
        self.max_consecutive_failed_dag_runs = max_consecutive_failed_dag_runs
        self.fileloc: str | None = None
        self.task_dict: dict[str, AbstractOperator] = {}
        self.used_group_ids: set[str] = set()
        self.task_group = TaskGroup(None, dag=self)

    # -- building
    def add_task(self, task: AbstractOperator) -> None:
        if task.task_id in self.task_dict and self.task_dict[task.task_id] is not task:
            raise DagDefinitionError(f"Duplicate task_id '{task.task_id}' in DAG '{self.dag_id}'")
        if task.task_id in self.used_group_ids:
            raise DagDefinitionError(f"task_id '{task.task_id}' is already used as a group_id in DAG '{self.dag_id}'")
        rule = str(getattr(getattr(task, "trigger_rule", None), "value", "all_success"))
        if (self.fail_fast or getattr(self, "fail_stop", False)) and rule not in (
            "all_success",
            "all_done_setup_success",
        ):
            # Airflow refuses it too (FailFastDagInvalidTriggerRule): fail_fast skips what is left
            raise DagDefinitionError(
                f"DAG '{self.dag_id}' has fail_fast, so task '{task.task_id}' cannot have trigger_rule '{rule}': "
                "use the default trigger rule (all_success) or drop fail_fast"
            )
        self.task_dict[task.task_id] = task
        task.dag = self

    def set_edge_info(self, upstream_task_id: str, downstream_task_id: str, info: dict[str, str]) -> None:
        """Metadata of one edge (``Label``): shown by ``dags show``, kept in the stored version."""
        self.edge_info[(upstream_task_id, downstream_task_id)] = dict(info)

    def get_edge_info(self, upstream_task_id: str, downstream_task_id: str) -> dict[str, str]:
        return self.edge_info.get((upstream_task_id, downstream_task_id), {})

    @property
    def task(self) -> Any:
        """``@dag.task``: ``@task`` for this DAG object (tasks join it wherever they are called)."""
        return _BoundTaskDecorators(taskflow.task, self)

    def __enter__(self) -> DAG:
        _context.push_dag(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _context.pop_dag()
        if not self.auto_register:
            _context.unregister(self)

    # -- reading
    @property
    def tasks(self) -> list[AbstractOperator]:
        return list(self.task_dict.values())

    @property
    def task_ids(self) -> list[str]:
        return list(self.task_dict)

    def get_task(self, task_id: str) -> AbstractOperator:
        try:
            return self.task_dict[task_id]
        except KeyError:
            raise TaskNotFound(f"Task '{task_id}' not found in DAG '{self.dag_id}'") from None

    def has_task(self, task_id: str) -> bool:
        return task_id in self.task_dict

    @property
    def roots(self) -> list[AbstractOperator]:
        return [t for t in self.task_dict.values() if not t.upstream_task_ids]

    @property
    def leaves(self) -> list[AbstractOperator]:
        return [t for t in self.task_dict.values() if not t.downstream_task_ids]

    def topological_sort(self) -> list[AbstractOperator]:
        """Tasks with every upstream before its downstream; raises DagDefinitionError on a cycle."""
        waiting = {tid: len(t.upstream_task_ids) for tid, t in self.task_dict.items()}
        ready = [tid for tid, count in waiting.items() if count == 0]
        ordered: list[AbstractOperator] = []
        while ready:
            task = self.task_dict[ready.pop(0)]
            ordered.append(task)
            for down in sorted(task.downstream_task_ids):
                waiting[down] -= 1
                if waiting[down] == 0:
                    ready.append(down)
        if len(ordered) != len(self.task_dict):
            raise DagDefinitionError(f"Cycle detected in DAG '{self.dag_id}': {self._find_cycle()}")
        return ordered

    def _find_cycle(self) -> str:
        visiting: list[str] = []
        done: set[str] = set()

        def visit(tid: str) -> list[str] | None:
            if tid in visiting:
                return [*visiting[visiting.index(tid) :], tid]
            if tid in done:
                return None
            visiting.append(tid)
            for down in sorted(self.task_dict[tid].downstream_task_ids):
                found = visit(down)
                if found:
                    return found
            visiting.pop()
            done.add(tid)
            return None

        for tid in self.task_dict:
            cycle = visit(tid)
            if cycle:
                return " >> ".join(cycle)
        return "(unknown)"

    def validate(self) -> None:
        """Checks that need the whole DAG: no cycles, no edge to a task outside the DAG."""
        for task in self.task_dict.values():
            for other in task.upstream_task_ids | task.downstream_task_ids:
                if other not in self.task_dict:
                    raise DagDefinitionError(
                        f"Task '{task.task_id}' in DAG '{self.dag_id}' depends on unknown task '{other}'"
                    )
        self.topological_sort()
        for task in self.task_dict.values():
            task.validate_in_dag()

    def __repr__(self) -> str:
        return f"<DAG: {self.dag_id}>"


class _BoundTaskDecorators:
    """``dag.task``, ``dag.task.branch`` ...: the task decorators with ``dag=`` given."""

    def __init__(self, decorators: Any, dag: DAG) -> None:
        self._decorators = decorators
        self._dag = dag

    def __call__(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        return self._decorators(python_callable, dag=self._dag, **kwargs)

    def __getattr__(self, name: str) -> Any:
        decorator = getattr(self._decorators, name)
        return functools.partial(decorator, dag=self._dag)


def dag(dag_id: str | Callable[..., Any] | None = None, **dag_kwargs: Any) -> Any:
    """Turn a function into a DAG factory: calling it builds the DAG from the function body.

    The function's arguments become DAG params; inside the body they stand for the run's values.

    >>> @dag(start_date=datetime(2025, 1, 1), schedule="@daily")
    ... def my_pipeline(limit: int = 10):
    ...     load(extract(limit))
    >>> my_pipeline()
    """
    if callable(dag_id):
        return _dag_factory(dag_id, dag_kwargs)
    if dag_id is not None:
        dag_kwargs["dag_id"] = dag_id
    return lambda fn: _dag_factory(fn, dag_kwargs)


def _dag_factory(fn: Callable[..., Any], dag_kwargs: dict[str, Any]) -> Callable[..., DAG]:
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def factory(*args: Any, **kwargs: Any) -> DAG:
        bound = signature.bind_partial(*args, **kwargs)
        bound.apply_defaults()
        options = dict(dag_kwargs)
        dag_id = options.pop("dag_id", None) or fn.__name__
        params = dict(options.pop("params", None) or {})
        plain_args = {
            name: value
            for name, value in bound.arguments.items()
            if signature.parameters[name].kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        }
        for name, value in plain_args.items():
            declared = params.get(name)
            if isinstance(declared, Param) and not isinstance(value, Param):
                params[name] = Param(value, declared.description, schema=declared.schema)
            else:
                params[name] = value
        options.setdefault("doc_md", inspect.getdoc(fn))
        with DAG(dag_id, params=params, **options) as new_dag:
            new_dag.fileloc = inspect.getsourcefile(fn)
            fn(**{name: DagParam(name, params[name]) for name in plain_args})
        return new_dag

    return factory
