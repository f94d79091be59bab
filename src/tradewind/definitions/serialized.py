"""A DAG's structure as plain JSON, and the read-only DAG rebuilt from it.

The DAG processor serialises every DAG it imports (:func:`serialize_dag`) and stores the JSON as
a version keyed by its hash (:func:`dag_hash`). The scheduler, the store-backed CLI commands and
the API read those versions back as a :class:`SerializedDAG`: everything the run state machine
needs (tasks, edges, trigger rules, retries, pools, limits, groups, what a mapped task maps over
and how long each literal is, the timetable, params), and no user code. ``dags test`` runs the
same state machine over ``SerializedDAG.from_dag(dag)``, so both drivers see one structure.

Literal values that are not JSON (and the callables of ``.map()``) are not stored: the
scheduler needs only their lengths; a worker reads the values from its own import of the file.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from tradewind.definitions import priority_strategy
from tradewind.definitions.abstractoperator import AbstractOperator
from tradewind.definitions.assets import BaseAsset, lineage_warning, outlet_nodes, read_node
from tradewind.definitions.dag import DAG
from tradewind.definitions.mapping import (
    DictOfListsExpandInput,
    ExpandInput,
    ListOfDictsExpandInput,
    MappedArgument,
    MappedOperator,
)
from tradewind.definitions.params import NOTSET, Param
from tradewind.definitions.states import TriggerRule
from tradewind.definitions.timetables import TimeRestriction
from tradewind.definitions.timetables.serialization import read_timetable, serialize_timetable
from tradewind.definitions.xcom_arg import (
    _NOTSET,
    ConcatXComArg,
    MapXComArg,
    PlainXComArg,
    XComArg,
    ZipXComArg,
    iter_xcom_args,
)
from tradewind.errors import DagDefinitionError

FORMAT_VERSION = 1


# --- writing ------------------------------------------------------------------------------------


def _operator_name(task: Any) -> str:
    operator = getattr(task, "operator_class", type(task))
    return str(getattr(operator, "custom_operator_name", operator.__name__))


def _json_or_none(value: Any) -> Any:
    """``value`` if it is plain JSON, else None (the reader then knows only its length)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return value


def _xcom_node(arg: XComArg) -> dict[str, Any]:
    if isinstance(arg, PlainXComArg):
        return {"xcom": [arg.task_id, arg.key]}
    if isinstance(arg, MapXComArg):
        return {"map": _xcom_node(arg.arg)}
    if isinstance(arg, ZipXComArg):
        return {"zip": [_xcom_node(a) for a in arg.args], "fill": arg.fillvalue is not _NOTSET}
    if isinstance(arg, ConcatXComArg):
        return {"concat": [_xcom_node(a) for a in arg.args]}
    raise DagDefinitionError(f"cannot serialise the task output reference {arg!r}")


def _value_node(value: Any) -> dict[str, Any]:
    if isinstance(value, XComArg):
        return _xcom_node(value)
    refs = [[p.task_id, p.key] for arg in iter_xcom_args(value) for p in arg.iter_plain()]
    return {"length": len(value), "refs": refs, "value": _json_or_none(value) if not refs else None}


def _expand_node(expand_input: ExpandInput) -> dict[str, Any]:
    if isinstance(expand_input, DictOfListsExpandInput):
        return {"kind": "dict", "args": {name: _value_node(v) for name, v in expand_input.value.items()}}
    if isinstance(expand_input, ListOfDictsExpandInput):
        return {"kind": "list", "value": _value_node(expand_input.value)}
    raise DagDefinitionError(f"cannot serialise the expand input {expand_input!r}")


def _whole_inputs(task: AbstractOperator) -> list[list[str]]:
    """(task_id, key) of the outputs this task reads whole (not element by element)."""
    if isinstance(task, MappedOperator):
        args = list(iter_xcom_args(task.partial_kwargs))
    else:
        args = [a for a in task.iter_input_xcom_args() if not isinstance(a, MappedArgument)]
    return [list(pair) for pair in sorted({(p.task_id, p.key) for arg in args for p in arg.iter_plain()})]


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def _task(task: AbstractOperator) -> dict[str, Any]:
    node = _task_fields(task)
    # written only when set, so that DAGs without them keep their version hash
    if task.priority_weight != 1 or task.weight_rule != "downstream":
        node["priority_weight"] = task.priority_weight
        node["weight_rule"] = priority_strategy.rule_name(task.weight_rule)
        custom = priority_strategy.custom_weight(task)  # a custom strategy, called at import
        if custom is not None:
            node["custom_weight"] = custom
    # depends_on_past and friends (scheduler/past.py); wait_for_downstream implies depends_on_past
    if getattr(task, "depends_on_past", False) or getattr(task, "wait_for_downstream", False):
        node["depends_on_past"] = True
        node["wait_for_downstream"] = bool(getattr(task, "wait_for_downstream", False))
        node["ignore_first_depends_on_past"] = bool(getattr(task, "ignore_first_depends_on_past", True))
        node["wait_before_skipping"] = bool(getattr(task, "wait_for_past_depends_before_skipping", False))
    marker = getattr(task, "external_marker", None)  # an ExternalTaskMarker (definitions/external_task.py)
    if marker is not None:
        node["external_marker"] = marker
    outlets = outlet_nodes(getattr(task, "outlets", None))
    if outlets:  # assets the task updates when it succeeds (docs/adr/0012)
        node["outlets"] = outlets
    ignored = lineage_warning(task)
    if ignored and task.dag is not None:
        task.dag.import_warnings.add(ignored)
    if task.is_setup:
        node["setup"] = True
    if task.is_teardown:
        node["teardown"] = True
        node["fail_dagrun"] = bool(task.on_failure_fail_dagrun)
    return node


def _task_fields(task: AbstractOperator) -> dict[str, Any]:
    group = task.task_group
    return {
        "task_id": task.task_id,
        "operator": _operator_name(task),
        "is_mapped": task.is_mapped,
        "group": group.group_id if group is not None else None,
        "upstream": sorted(task.upstream_task_ids),
        "trigger_rule": str(task.trigger_rule),
        "retries": task.retries,
        "retry_delay": _seconds(task.retry_delay),
        "retry_exponential_backoff": bool(task.retry_exponential_backoff),
        "max_retry_delay": _seconds(task.max_retry_delay),
        "execution_timeout": _seconds(task.execution_timeout),
        "pool": task.pool,
        "pool_slots": task.pool_slots,
        "max_active_tis_per_dag": task.max_active_tis_per_dag,
        "max_active_tis_per_dagrun": task.max_active_tis_per_dagrun,
        "expand": _expand_node(task.expand_input) if isinstance(task, MappedOperator) else None,
        "whole_inputs": _whole_inputs(task),
        "doc_md": getattr(task, "doc_md", None),
    }


def _groups(dag: DAG) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for task in dag.task_dict.values():
        for group in task.task_group.ancestry() if task.task_group else []:
            if group.group_id is None or group.group_id in found:
                continue
            parent = group.parent_group.group_id if group.parent_group is not None else None
            node: dict[str, Any] = {"group_id": group.group_id, "parent": parent, "tooltip": group.tooltip}
            if group.is_mapped:
                node["expand"] = _expand_node(group.expand_input)  # type: ignore[attr-defined]
            found[group.group_id] = node
    return [found[g] for g in sorted(found)]


def _param(value: Any) -> dict[str, Any]:
    if isinstance(value, Param):
        node = {
            "param": True,
            "default": value.value if value.has_default else None,
            "description": value.description,
            "schema": _text_keys(value.schema),
        }
        if not value.has_default:
            node["no_default"] = True  # a run's conf must give it a value
        return node
    return {"param": False, "default": value}


def _text_keys(value: Any) -> Any:
    """Dict keys as JSON writes them (``values_display={1: "One", None: ...}`` keyed 1, None mixed):
    text, so that the canonical JSON can sort them."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else json.dumps(k): _text_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text_keys(v) for v in value]
    return value


def serialize_dag(dag: DAG) -> dict[str, Any]:
    """The JSON form of ``dag``: deterministic (the same DAG gives the same text) and readable
    without tradewind's classes. Raises DagDefinitionError for what cannot be serialised."""
    return serialize_with_hash(dag)[0]


def serialize_with_hash(dag: DAG) -> tuple[dict[str, Any], str]:
    """``serialize_dag(dag)`` and its version hash, encoding the JSON once."""
    data = {
        "format": FORMAT_VERSION,
        "dag_id": dag.dag_id,
        "fileloc": dag.fileloc,
        "description": dag.description,
        "doc_md": dag.doc_md,
        "schedule": dag.timetable.summary,
        "timetable": serialize_timetable(dag.timetable, TimeRestriction(dag.start_date, dag.end_date, dag.catchup)),
        "start_date": dag.start_date.isoformat() if dag.start_date else None,
        "end_date": dag.end_date.isoformat() if dag.end_date else None,
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "dagrun_timeout": _seconds(dag.dagrun_timeout) if isinstance(dag.dagrun_timeout, timedelta) else None,
        "is_paused_upon_creation": dag.is_paused_upon_creation,
        "tags": list(dag.tags),
        "params": {name: _param(value) for name, value in dag.params.items()},
        "groups": _groups(dag),
        "tasks": [_task(task) for task in dag.topological_sort()],
    }
    # written only when there are some, so that other DAGs keep their version hash
    labels = [[up, down, info["label"]] for (up, down), info in sorted(dag.edge_info.items()) if "label" in info]
    if labels:
        data["edge_labels"] = labels
    if dag.import_warnings:
        data["warnings"] = dag.import_warnings.messages()
    if not dag.logical_date_on_trigger:  # kept only when set: other DAGs keep their version hash
        data["logical_date_on_trigger"] = False
    if dag.asset_condition is not None:  # scheduled on assets (docs/adr/0012)
        data["schedule"] = f"Asset or {dag.timetable.summary}" if dag.timetable.can_be_scheduled else "Asset"
        data["asset_condition"] = dag.asset_condition.as_node()
    if dag.fail_fast or dag.fail_stop:  # kept only when set (fail_stop: Airflow 2's name)
        data["fail_fast"] = True
    for name in ("on_success_callback", "on_failure_callback"):  # only whether there is one, when there is
        if getattr(dag, name, None):
            data[f"has_{name}"] = True
    try:
        text = canonical_json(_hashed(data))
    except (TypeError, ValueError) as exc:
        raise DagDefinitionError(f"DAG '{dag.dag_id}' cannot be stored: {exc} (params must be JSON values)") from None
    return data, hashlib.sha256(text.encode()).hexdigest()


_NOT_HASHED = ("computed_at", "refresh_after")  # of a user's timetable: asked again, the same runs are no new version


def _hashed(data: dict[str, Any]) -> dict[str, Any]:
    node = data.get("timetable")
    if isinstance(node, dict) and any(key in node for key in _NOT_HASHED):
        return {**data, "timetable": {k: v for k, v in node.items() if k not in _NOT_HASHED}}
    return data


def canonical_json(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def dag_hash(data: dict[str, Any]) -> str:
    """The version key of a serialised DAG: equal structure, equal hash."""
    return hashlib.sha256(canonical_json(_hashed(data)).encode()).hexdigest()


# --- reading ------------------------------------------------------------------------------------


class _Ref:
    """Stands for a task inside a rebuilt XComArg (only its id is ever read)."""

    __slots__ = ("task_id",)

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id


def _read_xcom(node: dict[str, Any]) -> XComArg:
    if "xcom" in node:
        task_id, key = node["xcom"]
        return PlainXComArg(_Ref(task_id), key)  # type: ignore[arg-type]
    if "map" in node:
        return MapXComArg(_read_xcom(node["map"]), _no_callable)
    if "zip" in node:
        return ZipXComArg([_read_xcom(n) for n in node["zip"]], fillvalue=None if node["fill"] else _NOTSET)
    if "concat" in node:
        return ConcatXComArg([_read_xcom(n) for n in node["concat"]])
    raise DagDefinitionError(f"unknown serialised value {node!r}")


def _no_callable(value: Any) -> Any:
    raise DagDefinitionError("the callable of .map() runs in the worker, not from a serialised DAG")


def _read_value(node: dict[str, Any]) -> Any:
    if "length" not in node:
        return _read_xcom(node)
    if node.get("value") is not None:
        return node["value"]
    # only the length (and the outputs it refers to) matter to the scheduler
    refs: list[Any] = [PlainXComArg(_Ref(t), k) for t, k in node["refs"]]  # type: ignore[arg-type]
    return refs + [None] * (node["length"] - len(refs))


def read_expand_input(node: dict[str, Any]) -> ExpandInput:
    if node["kind"] == "dict":
        return DictOfListsExpandInput({name: _read_value(v) for name, v in node["args"].items()})
    return ListOfDictsExpandInput(_read_value(node["value"]))


def _read_date(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _delta(value: float | None) -> timedelta | None:
    return timedelta(seconds=value) if value is not None else None


class SerializedTaskGroup:
    """A task group of a serialised DAG; a mapped one carries what it maps over."""

    def __init__(self, node: dict[str, Any]) -> None:
        self.group_id: str = node["group_id"]
        self.parent_id: str | None = node.get("parent")
        self.tooltip: str = node.get("tooltip") or ""
        self.is_mapped = "expand" in node
        self.expand_input: ExpandInput | None = read_expand_input(node["expand"]) if self.is_mapped else None

    def __repr__(self) -> str:
        return f"<SerializedTaskGroup {self.group_id}>"


class SerializedTask:
    """One task of a serialised DAG: what the scheduler needs to decide about its instances."""

    def __init__(self, node: dict[str, Any], groups: dict[str, SerializedTaskGroup]) -> None:
        self.task_id: str = node["task_id"]
        self.operator_name: str = node["operator"]
        self.is_mapped: bool = node["is_mapped"]
        self.group_id: str | None = node.get("group")
        self.upstream_task_ids: set[str] = set(node["upstream"])
        self.downstream_task_ids: set[str] = set()
        self.trigger_rule = TriggerRule(node["trigger_rule"])
        self.retries: int = node["retries"]
        self.retry_delay: timedelta = _delta(node["retry_delay"]) or timedelta(0)
        self.retry_exponential_backoff: bool = node["retry_exponential_backoff"]
        self.max_retry_delay = _delta(node["max_retry_delay"])
        self.execution_timeout = _delta(node.get("execution_timeout"))
        self.pool: str = node["pool"]
        self.pool_slots: int = node["pool_slots"]
        self.max_active_tis_per_dag: int | None = node["max_active_tis_per_dag"]
        self.max_active_tis_per_dagrun: int | None = node["max_active_tis_per_dagrun"]
        self.expand_input: ExpandInput | None = read_expand_input(node["expand"]) if node["expand"] else None
        self.whole_inputs: frozenset[tuple[str, str]] = frozenset((t, k) for t, k in node["whole_inputs"])
        self.doc_md: str | None = node.get("doc_md")
        self.priority_weight: int = node.get("priority_weight", 1)
        self.weight_rule: str = node.get("weight_rule", "downstream")
        self.custom_weight: int | None = node.get("custom_weight")
        self.external_marker: dict[str, Any] | None = node.get("external_marker")
        self.depends_on_past: bool = node.get("depends_on_past", False)
        self.wait_for_downstream: bool = node.get("wait_for_downstream", False)
        self.ignore_first_depends_on_past: bool = node.get("ignore_first_depends_on_past", True)
        self.wait_for_past_depends_before_skipping: bool = node.get("wait_before_skipping", False)
        self.is_setup: bool = node.get("setup", False)
        self.is_teardown: bool = node.get("teardown", False)
        self.on_failure_fail_dagrun: bool = node.get("fail_dagrun", False)
        self.outlets: list[dict[str, Any]] = list(node.get("outlets", []))
        self.mapped_group: SerializedTaskGroup | None = None
        group = groups.get(self.group_id) if self.group_id else None
        while group is not None:  # the innermost mapped group around the task, if any
            if group.is_mapped:
                self.mapped_group = group
                break
            group = groups.get(group.parent_id) if group.parent_id else None

    @property
    def expands_at_run_time(self) -> bool:
        return self.is_mapped or self.mapped_group is not None

    def __repr__(self) -> str:
        return f"<SerializedTask({self.operator_name}): {self.task_id}>"


def effective_priority(tasks: dict[str, SerializedTask], task_id: str) -> int:
    task = tasks[task_id]
    if task.custom_weight is not None:  # a PriorityWeightStrategy's, worked out at import
        return task.custom_weight
    if task.weight_rule == "absolute":
        return task.priority_weight
    upstream = task.weight_rule == "upstream"
    seen: set[str] = set()
    pending = list(task.upstream_task_ids if upstream else task.downstream_task_ids)
    while pending:
        other = pending.pop()
        if other not in seen:
            seen.add(other)
            pending.extend(tasks[other].upstream_task_ids if upstream else tasks[other].downstream_task_ids)
    return task.priority_weight + sum(tasks[t].priority_weight for t in seen)


class SerializedDAG:
    """A DAG rebuilt from its JSON: structure and scheduling attributes, no callables."""

    def __init__(self, data: dict[str, Any], version: str | None = None) -> None:
        self.data = data
        self.version = version or dag_hash(data)
        self.dag_id: str = data["dag_id"]
        self.fileloc: str | None = data.get("fileloc")
        self.description: str | None = data.get("description")
        self.doc_md: str | None = data.get("doc_md")
        self.schedule: str = data["schedule"]
        self.timetable = read_timetable(data["timetable"])
        self.logical_date_on_trigger: bool = data.get("logical_date_on_trigger", True)
        self.start_date = _read_date(data["start_date"])
        self.end_date = _read_date(data["end_date"])
        self.catchup: bool = data["catchup"]
        self.max_active_runs: int = data["max_active_runs"]
        self.max_active_tasks: int = data["max_active_tasks"]
        self.dagrun_timeout = _delta(data.get("dagrun_timeout"))
        self.fail_fast: bool = data.get("fail_fast", False)
        condition = data.get("asset_condition")
        self.asset_condition: BaseAsset | None = read_node(condition) if condition else None
        self.has_success_callback: bool = data.get("has_on_success_callback", False)
        self.has_failure_callback: bool = data.get("has_on_failure_callback", False)
        self.is_paused_upon_creation: bool | None = data.get("is_paused_upon_creation")
        self.tags: list[str] = list(data["tags"])
        self.params: dict[str, Any] = {
            name: Param(
                NOTSET if p.get("no_default") else p["default"], p.get("description"), schema=p.get("schema", {})
            )
            if p["param"]
            else p["default"]
            for name, p in data["params"].items()
        }
        self.groups = {g["group_id"]: SerializedTaskGroup(g) for g in data["groups"]}
        self.edge_labels: dict[tuple[str, str], str] = {(u, d): label for u, d, label in data.get("edge_labels", [])}
        self.import_warnings: list[str] = list(data.get("warnings", []))
        self._order = [SerializedTask(node, self.groups) for node in data["tasks"]]
        self.task_dict: dict[str, SerializedTask] = {t.task_id: t for t in self._order}
        for task in self._order:
            for upstream in task.upstream_task_ids:
                self.task_dict[upstream].downstream_task_ids.add(task.task_id)

    @functools.cached_property
    def priorities(self) -> dict[str, int] | None:
        """Each task's effective priority weight (Airflow's weight rules: its own weight plus its
        downstream tasks' for "downstream", upstream tasks' for "upstream", its own for
        "absolute"), or None when no task sets one, so ready work keeps its order."""
        if all(t.priority_weight == 1 and t.weight_rule == "downstream" for t in self._order):
            return None
        return {t.task_id: effective_priority(self.task_dict, t.task_id) for t in self._order}

    @functools.cached_property
    def depends_on_past(self) -> bool:
        """Some task waits for the previous run (scheduler/past.py)."""
        return any(t.depends_on_past for t in self._order)

    @classmethod
    def from_dag(cls, dag: DAG) -> SerializedDAG:
        return cls(serialize_dag(dag))

    def topological_sort(self) -> list[SerializedTask]:
        """Tasks as stored: every upstream before its downstream."""
        return list(self._order)

    @property
    def tasks(self) -> list[SerializedTask]:
        return list(self._order)

    def __repr__(self) -> str:
        return f"<SerializedDAG {self.dag_id} {self.version[:12]}>"
