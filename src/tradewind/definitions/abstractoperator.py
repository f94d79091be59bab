"""What every task node has, mapped or not: identity, place in the DAG, edges and the
scheduling attributes (retries, trigger rule, pool, ...) resolved from arguments and default_args."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tradewind.definitions import _context, compat_warnings, priority_strategy, setup_teardown
from tradewind.definitions.dependencies import DependencyMixin
from tradewind.definitions.states import TriggerRule
from tradewind.definitions.xcom_arg import PlainXComArg, XComArg
from tradewind.errors import DagDefinitionError

if TYPE_CHECKING:
    from tradewind.definitions.dag import DAG
    from tradewind.definitions.taskgroup import MappedTaskGroup, TaskGroup

# What _init_node sets before the base arguments.
NODE_ATTRIBUTES = ("task_id", "dag", "task_group", "upstream_task_ids", "downstream_task_ids")
ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")
MAX_ID_LENGTH = 250

# The arguments every operator accepts, with their defaults; default_args may set any of them.
BASE_DEFAULTS: dict[str, Any] = {
    "owner": "tradewind",
    "retries": 0,
    "retry_delay": timedelta(seconds=300),
    "retry_exponential_backoff": False,
    "max_retry_delay": None,
    "execution_timeout": None,
    "trigger_rule": TriggerRule.ALL_SUCCESS,
    "depends_on_past": False,
    "wait_for_downstream": False,
    "pool": "default_pool",
    "pool_slots": 1,
    "priority_weight": 1,
    "weight_rule": "downstream",
    "queue": "default",
    "doc": None,
    "doc_md": None,
    "doc_rst": None,
    "doc_json": None,
    "doc_yaml": None,
    "params": None,
    "max_active_tis_per_dag": None,
    "max_active_tis_per_dagrun": None,
    "map_index_template": None,
    "do_xcom_push": True,
    "multiple_outputs": False,
    "on_execute_callback": None,
    "on_success_callback": None,
    "on_failure_callback": None,
    "on_retry_callback": None,
    "on_skipped_callback": None,
    "email": None,
    "email_on_failure": True,
    "email_on_retry": True,
    "start_date": None,
    "end_date": None,
    "sla": None,
    "executor": None,
    "executor_config": None,
    "resources": None,
    "inlets": None,
    "outlets": None,
    "run_as_user": None,
    "task_display_name": None,
    "retry_policy": None,
    "ignore_first_depends_on_past": True,
    "wait_for_past_depends_before_skipping": False,
    "logger_name": None,
    "allow_nested_operators": True,
    "render_template_as_native_obj": None,
}


def validate_id(value: object, what: str) -> str:
    """Return ``value`` if it is a valid dag_id/task_id/group_id, else raise DagDefinitionError."""
    if not isinstance(value, str) or not value:
        raise DagDefinitionError(f"{what} must be a non-empty string, got {value!r}")
    if len(value) > MAX_ID_LENGTH:
        raise DagDefinitionError(f"{what} {value[:40]!r}... is longer than {MAX_ID_LENGTH} characters")
    if not ID_PATTERN.fullmatch(value):
        raise DagDefinitionError(f"{what} {value!r} is invalid: use only letters, digits, underscores, dots and dashes")
    return value if type(value) is str else str.__str__(value)  # a str enum member (TriggerRule) as its text


def to_timedelta(value: Any, name: str, task_id: str) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    raise DagDefinitionError(
        f"Task '{task_id}': {name} must be a datetime.timedelta or a number of seconds, got {value!r}"
    )


def resolve_base_arguments(
    explicit: Mapping[str, Any], dag: DAG | None, group: TaskGroup | None, task_id: str
) -> dict[str, Any]:
    """Explicit arguments win over the task group's default_args, which win over the DAG's.
    Only the values given somewhere are checked: those of BASE_DEFAULTS are valid as they are."""
    given: dict[str, Any] = dict(dag.default_args) if dag is not None else {}
    for owner in reversed(list(group.ancestry()) if group is not None else []):
        given.update(owner.default_args)
    given.update(explicit)
    resolved = dict(BASE_DEFAULTS)  # in BASE_DEFAULTS' order: the update below only replaces values
    if given:
        resolved.update((k, v) for k, v in given.items() if k in BASE_DEFAULTS)
        if "retries" in given:
            retries = 0 if resolved["retries"] is None else resolved["retries"]
            if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
                raise DagDefinitionError(f"Task '{task_id}': retries must be a whole number >= 0, got {retries!r}")
            resolved["retries"] = retries
        for name in ("retry_delay", "max_retry_delay", "execution_timeout"):
            if name in given:
                resolved[name] = to_timedelta(resolved[name], name, task_id)
        if "trigger_rule" in given:
            resolved["trigger_rule"] = TriggerRule.parse(resolved["trigger_rule"])
        if "weight_rule" in given:  # a name, or a custom PriorityWeightStrategy (priority_strategy.py)
            resolved["weight_rule"] = priority_strategy.parse_weight_rule(resolved["weight_rule"], task_id)
        if "pool_slots" in given and (not isinstance(resolved["pool_slots"], int) or resolved["pool_slots"] < 1):
            raise DagDefinitionError(f"Task '{task_id}': pool_slots must be a whole number >= 1")
    resolved["params"] = dict(resolved["params"] or {})
    return resolved


class AbstractOperator(DependencyMixin):
    """A node of the DAG: an operator, or a mapped operator that expands at run time."""

    is_mapped = False
    is_setup = False
    is_teardown = False
    on_failure_fail_dagrun = False
    task_id: str
    dag: DAG | None
    task_group: TaskGroup | None
    upstream_task_ids: set[str]
    downstream_task_ids: set[str]
    # set by _init_node from the resolved base arguments
    owner: str
    retries: int
    retry_delay: timedelta
    retry_exponential_backoff: bool
    max_retry_delay: timedelta | None
    execution_timeout: timedelta | None
    trigger_rule: TriggerRule
    depends_on_past: bool
    priority_weight: int
    weight_rule: str
    pool: str
    pool_slots: int
    params: dict[str, Any]
    max_active_tis_per_dag: int | None
    max_active_tis_per_dagrun: int | None
    map_index_template: str | None
    do_xcom_push: bool
    multiple_outputs: bool

    def _place(
        self, task_id: str, dag: DAG | None, task_group: TaskGroup | None
    ) -> tuple[DAG | None, TaskGroup | None, str]:
        """Find this node's DAG and group and compute its full task_id (group prefix included)."""
        task_id = validate_id(task_id, "task_id")
        dag = dag if dag is not None else _context.current_dag()
        if task_group is None:
            task_group = _context.current_group(dag)
        if task_group is None and dag is not None:
            task_group = dag.task_group
        full_id = task_group.child_id(task_id) if task_group is not None else task_id
        return dag, task_group, full_id

    def _init_node(
        self, task_id: str, dag: DAG | None, task_group: TaskGroup | None, arguments: dict[str, Any]
    ) -> None:
        self._set_arguments(
            {
                "task_id": task_id,
                "dag": None,
                "task_group": task_group,
                "upstream_task_ids": set(),
                "downstream_task_ids": set(),
                **arguments,
            }
        )
        if dag is not None:
            dag.add_task(self)
            for name in compat_warnings.task_arguments_given(arguments, dag):
                dag.import_warnings.task_argument(name, task_id)
        if task_group is not None:
            task_group.add(self)
        setup_teardown.note_created(self)

    def _set_arguments(self, arguments: dict[str, Any]) -> None:
        """Set node attributes (NODE_ATTRIBUTES, the base arguments) in order (BaseOperator does it faster)."""
        for name, value in arguments.items():
            setattr(self, name, value)

    # -- setup and teardown (see tradewind.definitions.setup_teardown)
    def as_setup(self) -> AbstractOperator:
        """Make this a setup task; returns the task."""
        setup_teardown.mark_setup(self)
        return self

    def as_teardown(self, *, setups: Any = None, on_failure_fail_dagrun: bool | None = None) -> AbstractOperator:
        """Make this a teardown task of ``setups`` (tasks or outputs); returns the task."""
        setup_teardown.mark_teardown(self, setups, on_failure_fail_dagrun)
        return self

    def __enter__(self) -> AbstractOperator:
        setup_teardown.enter_scope(self)
        return self

    def __exit__(self, *exc: object) -> None:
        setup_teardown.exit_scope()

    # -- graph
    @property
    def roots(self) -> list[AbstractOperator]:
        return [self]

    @property
    def leaves(self) -> list[AbstractOperator]:
        return [self]

    @property
    def node_id(self) -> str:
        return self.task_id

    @property
    def label(self) -> str:
        """The id without its group prefix, as shown inside the group."""
        if self.task_group is not None and self.task_group.group_id and self.task_group.prefix_group_id:
            return self.task_id[len(self.task_group.group_id) + 1 :]
        return self.task_id

    def _add_edge_to(self, other: AbstractOperator) -> None:
        if other is self:
            raise DagDefinitionError(f"Task '{self.task_id}' cannot depend on itself")
        if self.dag is None and other.dag is None:
            raise DagDefinitionError(
                f"Cannot set a dependency between '{self.task_id}' and '{other.task_id}': "
                "neither belongs to a DAG (create them inside `with DAG(...)` or pass dag=)"
            )
        if self.dag is None:
            other.dag.add_task(self)  # type: ignore[union-attr]
        elif other.dag is None:
            self.dag.add_task(other)
        elif self.dag is not other.dag:
            raise DagDefinitionError(
                f"Cannot set a dependency between '{self.task_id}' (DAG '{self.dag.dag_id}') and "
                f"'{other.task_id}' (DAG '{other.dag.dag_id}'): tasks must be in the same DAG"
            )
        self.downstream_task_ids.add(other.task_id)
        other.upstream_task_ids.add(self.task_id)

    @property
    def upstream_list(self) -> list[AbstractOperator]:
        assert self.dag is not None
        return [self.dag.task_dict[t] for t in sorted(self.upstream_task_ids)]

    @property
    def downstream_list(self) -> list[AbstractOperator]:
        assert self.dag is not None
        return [self.dag.task_dict[t] for t in sorted(self.downstream_task_ids)]

    @property
    def output(self) -> PlainXComArg:
        """This task's return value, as an XComArg to pass to other tasks or to ``expand()``."""
        return PlainXComArg(self)

    def iter_input_xcom_args(self) -> Iterator[XComArg]:
        """The task outputs this task consumes (overridden by operators and mapped operators)."""
        return iter(())

    def validate_in_dag(self) -> None:
        """Checks that need the finished DAG (mapped operators add their own)."""

    @property
    def mapped_group(self) -> MappedTaskGroup | None:
        """The mapped task group this node runs in (one instance per group element), if any."""
        for group in self.task_group.ancestry() if self.task_group else []:
            if group.is_mapped:
                return group  # type: ignore[return-value]
        return None

    @property
    def expands_at_run_time(self) -> bool:
        """True for a mapped task and for any task inside a mapped task group."""
        return self.is_mapped or self.mapped_group is not None

    def __repr__(self) -> str:
        return f"<Task({type(self).__name__}): {self.task_id}>"
