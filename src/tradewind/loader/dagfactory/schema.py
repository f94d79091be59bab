"""Check one DAG's dag-factory config before anything is built.

Each check raises ``ConfigProblem`` with the key path inside the DAG's config, what is wrong,
and what is allowed; the factory turns it into an import error on the YAML file at that key's
line. Only the shape is checked here (keys, types, names, cycles); values that need the operator
or the callable to judge are checked while building (``builder.py``), with the same error.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from typing import Any

from tradewind.definitions.dag import DAG

Key = tuple[Any, ...]

# ``+task`` and ``+task['key']``: a reference to an upstream task's return value (TaskFlow tasks)
REFERENCE = re.compile(r"""^\+(?P<task>[\w.-]+)(\[['"](?P<key>.*)['"]\])?$""")
# ``task.output`` and ``XComArg(task)``: the same for operator tasks' ``expand``
OUTPUT = re.compile(r"^(?P<task>[\w-]+)\.output$|^XcomArg\((?P<xtask>[\w-]+)\)$", re.IGNORECASE)

CALLBACKS = (
    "on_execute_callback",
    "on_success_callback",
    "on_failure_callback",
    "on_retry_callback",
    "on_skipped_callback",
)
_DAG_PARAMETERS = {name for name in inspect.signature(DAG.__init__).parameters if name not in ("self", "dag_id")}
_DAG_PARAMETERS.discard("auto_register")
DAG_KEYS = _DAG_PARAMETERS | {
    "tasks",
    "task_groups",
    "timezone",
    "doc_md_file_path",
    "doc_md_python_callable_name",
    "doc_md_python_callable_file",
    "doc_md_python_arguments",
    "on_success_callback_name",
    "on_success_callback_file",
    "on_failure_callback_name",
    "on_failure_callback_file",
    "default_view",  # Airflow 2 web UI settings: accepted and ignored with a warning
    "orientation",
}
# dag-factory task keys for features tradewind does not have: refused, never ignored
UNSUPPORTED_TASK_KEYS = {
    "variables_as_arguments": "Airflow Variables",
    "success_check_name": "SqlSensor helpers",
    "success_check_file": "SqlSensor helpers",
    "success_check_lambda": "SqlSensor helpers",
    "failure_check_name": "SqlSensor helpers",
    "failure_check_file": "SqlSensor helpers",
    "failure_check_lambda": "SqlSensor helpers",
    "response_check_name": "HttpSensor helpers",
    "response_check_file": "HttpSensor helpers",
    "response_check_lambda": "HttpSensor helpers",
    "execution_date_fn_name": "ExternalTaskSensor helpers",
    "execution_date_fn_file": "ExternalTaskSensor helpers",
}
TASK_GROUP_KEYS = {"tooltip", "prefix_group_id", "parent_group_name", "dependencies", "default_args", "group_name"}
_TYPES: dict[str, tuple[type | tuple[type, ...], str]] = {
    "catchup": (bool, "true or false"),
    "render_template_as_native_obj": (bool, "true or false"),
    "is_paused_upon_creation": (bool, "true or false"),
    "max_active_runs": (int, "a whole number"),
    "max_active_tasks": (int, "a whole number"),
    "concurrency": (int, "a whole number"),
    "tags": (list, "a list of strings"),
    "params": (dict, "a mapping"),
    "default_args": (dict, "a mapping"),
    "description": (str, "a string"),
    "timezone": (str, "a time zone name such as Europe/Paris"),
}


class ConfigProblem(Exception):
    """What is wrong at ``key`` (a path inside the DAG's config) and what is allowed."""

    def __init__(self, key: Key, problem: str, allowed: str = "") -> None:
        super().__init__(problem)
        self.key = key
        self.problem = problem
        self.allowed = allowed


def kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", type(None): "empty"}.get(
        type(value), f"{type(value).__name__} {value!r}"
    )


def _listing(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "(none)"


def tasks_as_dict(tasks: Any, key: Key = ("tasks",)) -> dict[str, dict[str, Any]]:
    """``tasks`` written as a mapping (name -> config) or as a list of configs with ``task_id``."""
    return _named(tasks, key, "task_id", "task")


def groups_as_dict(groups: Any, key: Key = ("task_groups",)) -> dict[str, dict[str, Any]]:
    return _named(groups, key, "group_name", "task group")


def _named(value: Any, key: Key, id_key: str, what: str) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    if isinstance(value, dict):
        for name, conf in value.items():
            if not isinstance(conf, dict):
                raise ConfigProblem((*key, name), f"a {what}'s config must be a mapping, not {kind(conf)}")
        return value
    if isinstance(value, list):
        found: dict[str, dict[str, Any]] = {}
        for index, entry in enumerate(value):
            if not isinstance(entry, dict) or id_key not in entry:
                raise ConfigProblem((*key, index), f"each {what} in the list must be a mapping with `{id_key}`")
            name = str(entry[id_key])
            if name in found:
                raise ConfigProblem((*key, index), f"{what} `{name}` is defined twice")
            found[name] = {k: v for k, v in entry.items() if k != id_key}
        return found
    raise ConfigProblem(key, f"must be a mapping or a list of {what}s, not {kind(value)}")


def check_dag(config: Any) -> None:
    """The DAG-level keys and their types."""
    if not isinstance(config, dict):
        raise ConfigProblem((), f"a DAG's config must be a mapping, not {kind(config)}")
    for name, value in config.items():
        if name not in DAG_KEYS:
            raise ConfigProblem((name,), f"unknown key `{name}`", f"DAG keys are: {_listing(DAG_KEYS)}")
        expected = _TYPES.get(name)
        if (
            expected
            and value is not None
            and (not isinstance(value, expected[0]) or (expected[0] is int and isinstance(value, bool)))
        ):
            raise ConfigProblem((name,), f"must be {expected[1]}, not {kind(value)}")
    schedule = config.get("schedule", config.get("schedule_interval"))
    if isinstance(schedule, list) or (isinstance(schedule, dict) and ("datasets" in schedule or "file" in schedule)):
        key = "schedule" if "schedule" in config else "schedule_interval"
        raise ConfigProblem(
            (key,), "schedules on datasets or assets are not supported by tradewind", "give a cron expression or preset"
        )
    if "schedule" in config and "schedule_interval" in config:
        raise ConfigProblem(("schedule_interval",), "give `schedule` or `schedule_interval` (its old name), not both")
    for index, tag in enumerate(config.get("tags") or []):
        if not isinstance(tag, str):
            raise ConfigProblem(("tags", index), f"a tag must be a string, not {kind(tag)}")


def reference(value: Any, outputs: bool = False) -> tuple[str, str | None] | None:
    """(task, key) when ``value`` is ``+task`` or ``+task['key']`` (or, with ``outputs``, as in
    an operator's ``expand``: ``task.output`` or ``XComArg(task)``); else None."""
    if not isinstance(value, str):
        return None
    match = REFERENCE.match(value)
    if match:
        return match["task"], match["key"]
    match = OUTPUT.match(value) if outputs else None
    if match:
        return match["task"] or match["xtask"], None
    return None


NOT_ARGUMENTS = {"operator", "decorator", "dependencies", "task_group_name", "expand", "partial"}


def task_references(conf: dict[str, Any]) -> list[tuple[Key, str, str | None]]:
    """Where a task refers to an upstream task's output: (key, task, xcom key). As in dag-factory:
    the values of ``expand`` and ``partial``, and a TaskFlow task's own arguments."""
    found: list[tuple[Key, str, str | None]] = []
    for field in ("expand", "partial"):
        for arg, value in (conf.get(field) or {}).items() if isinstance(conf.get(field), dict) else ():
            ref = reference(value, outputs=True)
            if ref:
                found.append(((field, arg), *ref))
    if "decorator" in conf:
        for arg, value in conf.items():
            ref = reference(value) if arg not in NOT_ARGUMENTS else None
            if ref:
                found.append(((arg,), *ref))
    return found


def check_tasks(tasks: dict[str, dict[str, Any]], groups: dict[str, dict[str, Any]]) -> list[str]:
    """Every task's own keys, its dependencies and references, its group; then no cycle.
    Returns the task names in an order where each comes after what it depends on."""
    task_list = f"tasks are: {_listing(tasks)}"
    for name, conf in tasks.items():
        key: Key = ("tasks", name)
        for field, feature in UNSUPPORTED_TASK_KEYS.items():
            if field in conf:
                raise ConfigProblem((*key, field), f"{feature} (`{field}`) are not supported by tradewind")
        for field in ("inlets", "outlets"):
            if isinstance(conf.get(field), dict):
                raise ConfigProblem((*key, field), "datasets read from a file are not supported by tradewind")
        if ("operator" in conf) == ("decorator" in conf):
            raise ConfigProblem(key, "a task needs either `operator` or `decorator`", "(exactly one of them)")
        for field in ("operator", "decorator"):
            if field in conf and not isinstance(conf[field], str):
                raise ConfigProblem(
                    (*key, field), f"must be a dotted path such as airflow.sdk.task, not {kind(conf[field])}"
                )
        for field in ("expand", "partial"):
            if field in conf and not isinstance(conf[field], dict):
                raise ConfigProblem(
                    (*key, field), f"must be a mapping of argument names to values, not {kind(conf[field])}"
                )
        for arg, value in (conf.get("expand") or {}).items():
            if not isinstance(value, (list, dict)) and not reference(value, outputs=True):
                raise ConfigProblem(
                    (*key, "expand", arg),
                    f"cannot map over {kind(value)}",
                    "give a list, a mapping, or an upstream task's output (`+task`, `task.output`)",
                )
        group = conf.get("task_group_name")
        if group is not None and group not in groups:
            raise ConfigProblem(
                (*key, "task_group_name"), f"no task group named `{group}`", f"task groups are: {_listing(groups)}"
            )
        for where, ref, _ in task_references(conf):
            if ref not in tasks:
                raise ConfigProblem((*key, *where), f"no task named `{ref}`", task_list)
    names = set(tasks) | set(groups)
    for section, items in (("tasks", tasks), ("task_groups", groups)):
        for name, conf in items.items():
            deps = conf.get("dependencies")
            if deps is None:
                continue
            if not isinstance(deps, list):
                raise ConfigProblem((section, name, "dependencies"), f"must be a list of task names, not {kind(deps)}")
            for index, dep in enumerate(deps):
                if dep not in names:
                    extra = f"; task groups are: {_listing(groups)}" if groups else ""
                    raise ConfigProblem(
                        (section, name, "dependencies", index), f"no task named `{dep}`", task_list + extra
                    )
    return _order(tasks, groups)


def _upstream_of(tasks: dict[str, dict[str, Any]], groups: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Each task or group's upstream names: its dependencies and the tasks it references; a
    group's tasks count as the group."""
    ups: dict[str, list[str]] = {name: [] for name in (*tasks, *groups)}
    for name, conf in tasks.items():
        ups[name] += [dep for dep in conf.get("dependencies") or []]
        ups[name] += [ref for _, ref, _ in task_references(conf)]
    for name, conf in groups.items():
        ups[name] += list(conf.get("dependencies") or [])
    return ups


def _order(tasks: dict[str, dict[str, Any]], groups: dict[str, dict[str, Any]]) -> list[str]:
    ups = _upstream_of(tasks, groups)
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*trail[trail.index(name) :], name]
            section = "tasks" if cycle[0] in tasks else "task_groups"
            raise ConfigProblem(
                (section, cycle[0], "dependencies"),
                f"dependency cycle {' -> '.join(cycle)}",
                "a DAG's dependencies must not loop",
            )
        state[name] = 1
        for up in ups[name]:
            visit(up, [*trail, name])
        state[name] = 2
        if name in tasks:
            order.append(name)

    for name in ups:
        visit(name, [])
    return order


def check_groups(groups: dict[str, dict[str, Any]]) -> list[str]:
    """Group keys and parents; returns the groups with each parent before its children."""
    for name, conf in groups.items():
        for field in conf:
            if field not in TASK_GROUP_KEYS:
                raise ConfigProblem(
                    ("task_groups", name, field),
                    f"unknown key `{field}`",
                    f"task group keys are: {_listing(TASK_GROUP_KEYS)}",
                )
        parent = conf.get("parent_group_name")
        if parent is not None and parent not in groups:
            raise ConfigProblem(
                ("task_groups", name, "parent_group_name"),
                f"no task group named `{parent}`",
                f"task groups are: {_listing(groups)}",
            )
    order: list[str] = []
    for name in groups:
        chain: list[str] = []
        current: str | None = name
        while current is not None and current not in order:
            if current in chain:
                raise ConfigProblem(
                    ("task_groups", current, "parent_group_name"),
                    f"task groups nest in a loop: {' -> '.join([*chain, current])}",
                )
            chain.append(current)
            current = groups[current].get("parent_group_name")
        order += reversed(chain)
    return order
