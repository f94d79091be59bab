"""Build one DAG from its merged dag-factory config (checked first by ``schema.py``).

Operators and decorators are found by dotted path through the import system, so Airflow 2 and
3 paths (``airflow.operators.bash.BashOperator``, ``airflow.providers.standard...``,
``airflow.sdk.task``) resolve to tradewind's through the ``airflow`` alias, and a user's own
operator module in the DAGs folder works as in Airflow. Anything that goes wrong while a task is
built becomes a ``ConfigProblem`` at that task's key.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import inspect
import os
import sys
import warnings
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from tradewind.definitions import _context
from tradewind.definitions.dag import DAG
from tradewind.definitions.taskgroup import TaskGroup
from tradewind.loader.dagfactory.schema import (
    CALLBACKS,
    NOT_ARGUMENTS,
    ConfigProblem,
    Key,
    check_dag,
    check_groups,
    check_tasks,
    groups_as_dict,
    kind,
    reference,
    tasks_as_dict,
)

OPERATORS_HINT = (
    "tradewind provides Airflow's standard operators and sensors under their Airflow 2 and 3 paths "
    "(e.g. airflow.providers.standard.operators.bash.BashOperator; docs/airflow-compatibility.md lists them), "
    "or give a class importable from the DAGs folder"
)
PYTHON_OPERATORS = {"PythonOperator", "BranchPythonOperator", "ShortCircuitOperator"}


def import_string(path: str) -> Any:
    """``a.b.C`` or ``a.b.C.attr``: the longest importable module prefix, then attributes."""
    parts = path.split(".")
    missing: ModuleNotFoundError | None = None
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            value: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                missing = missing or exc
                continue  # this prefix is not a module: try a shorter one
            raise
        try:
            for attr in parts[cut:]:
                value = getattr(value, attr)
        except AttributeError:
            if missing is not None:
                raise ImportError(f"no module named {missing.name}") from None
            raise
        return value
    if missing is not None:
        raise ImportError(f"no module named {missing.name}") from None
    raise ImportError(f"`{path}` is not a dotted path to an object (module.name)")


_files: dict[tuple[str, int], Any] = {}


def callable_from_file(name: str, file: str, base: str) -> Any:
    """``<x>_name`` + ``<x>_file``: the function ``name`` defined in the Python file ``file``
    (relative to the YAML's folder, or absolute as dag-factory requires)."""
    path = Path(file) if os.path.isabs(file) else Path(base) / file
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        raise ConfigProblem((), f"no such file {path}") from None
    module = _files.get((str(path), stamp))
    if module is None:
        spec = importlib.util.spec_from_file_location(f"dagfactory_callable_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise ConfigProblem((), f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules.setdefault(path.stem, module)  # as dag-factory: importable by its stem
        _files[(str(path), stamp)] = module
    try:
        return getattr(module, name)
    except AttributeError:
        defined = sorted(k for k, v in vars(module).items() if callable(v) and not k.startswith("_"))
        raise ConfigProblem((), f"{path.name} defines no `{name}`; it defines: {', '.join(defined)}") from None


def as_datetime(value: Any, timezone: str) -> datetime:
    """dag-factory's dates: a date/datetime, a date string, or a relative ``"3 days"`` (before
    the start of today), all in ``timezone``."""
    import pendulum

    tz = pendulum.timezone(timezone)
    if isinstance(value, datetime):
        return value.replace(tzinfo=tz) if value.tzinfo is None else value
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time()).replace(tzinfo=tz)
    if not isinstance(value, str):
        raise ConfigProblem((), f"must be a date, not {kind(value)}")
    try:
        parsed = pendulum.parse(value)
    except Exception:
        delta = relative_delta(value)
        return pendulum.now(tz).start_of("day") - delta
    if not isinstance(parsed, datetime):
        raise ConfigProblem((), f"`{value}` is not a date")
    return parsed.replace(tzinfo=tz)


def relative_delta(text: str) -> timedelta:
    import re

    found = re.findall(r"(\d+)\s*(day|hour|minute|second)s?", text, flags=re.IGNORECASE)
    if not found:
        raise ConfigProblem((), f"`{text}` is neither a date nor a relative time such as '2 days'")
    return timedelta(**{f"{unit.lower()}s": int(n) for n, unit in found})


@contextlib.contextmanager
def at(key: Key) -> Iterator[None]:
    """Anything raised inside becomes a ConfigProblem at ``key`` (a deeper one keeps its own key)."""
    try:
        yield
    except ConfigProblem as exc:
        raise ConfigProblem((*key, *exc.key), exc.problem, exc.allowed) from None
    except Exception as exc:
        raise ConfigProblem(key, f"{type(exc).__name__}: {exc}") from exc


def _callback(value: Any) -> Any:
    if isinstance(value, list):
        return [_callback(item) for item in value]
    if isinstance(value, str):
        return import_string(value)
    if isinstance(value, dict) and isinstance(value.get("callback"), str):
        target = import_string(value["callback"])
        params = {k: v for k, v in value.items() if k != "callback"}
        return target(**params) if hasattr(target, "notify") else functools.partial(target, **params)
    raise ConfigProblem((), f"a callback is a dotted path or a mapping with `callback`, not {kind(value)}")


def resolve_callbacks(params: dict[str, Any], base: str, names: tuple[str, ...] = CALLBACKS) -> None:
    """In place: ``on_x_callback`` by dotted path (or list, or {callback, **kwargs}), or by
    ``on_x_callback_name`` + ``on_x_callback_file``."""
    for name in names:
        if params.get(name) is not None and not callable(params[name]):
            with at((name,)):
                params[name] = _callback(params[name])
        if f"{name}_name" in params and f"{name}_file" in params:
            with at((f"{name}_name",)):
                params[name] = callable_from_file(params.pop(f"{name}_name"), params.pop(f"{name}_file"), base)


def _python_callable(params: dict[str, Any], base: str) -> None:
    if "python_callable_name" in params or "python_callable_file" in params:
        if not ("python_callable_name" in params and "python_callable_file" in params):
            raise ConfigProblem(
                ("python_callable_name",), "give both `python_callable_name` and `python_callable_file`"
            )
        with at(("python_callable_file",)):
            params["python_callable"] = callable_from_file(
                params.pop("python_callable_name"), params.pop("python_callable_file"), base
            )
    elif isinstance(params.get("python_callable"), str):
        with at(("python_callable",)):
            params["python_callable"] = import_string(params["python_callable"])


def _macros(macros: dict[str, Any]) -> dict[str, Any]:
    """dag-factory's ``user_defined_macros``: a string is the dotted path of the macro."""
    resolved: dict[str, Any] = {}
    for name, value in macros.items():
        with at((name,)):
            resolved[name] = (
                import_string(value) if isinstance(value, str) else _macros(value) if isinstance(value, dict) else value
            )
    return resolved


def _value(value: Any, outputs: dict[str, Any], xcom: bool) -> Any:
    ref = reference(value, outputs=xcom)
    if ref is None:
        return value
    task, key = ref
    return outputs[task][key] if key else outputs[task]


class DagBuilder:
    """Builds the DAG ``name`` from its merged ``config``; ``base`` is the YAML's folder."""

    def __init__(self, name: str, config: dict[str, Any], base: str) -> None:
        self.name = name
        self.config = config
        self.base = base

    def build(self) -> DAG:
        check_dag(self.config)
        params = dict(self.config)
        tasks = tasks_as_dict(params.pop("tasks", None))
        groups = groups_as_dict(params.pop("task_groups", None))
        group_order = check_groups(groups)
        order = check_tasks(tasks, groups)
        dag = self._dag(params)
        try:
            with dag:
                made_groups = self._groups(groups, group_order, dag)
                nodes: dict[str, Any] = dict(made_groups)
                outputs: dict[str, Any] = {}
                for task_name in order:
                    with at(("tasks", task_name)):
                        node, output = self._task(task_name, dict(tasks[task_name]), made_groups, outputs)
                    nodes[task_name], outputs[task_name] = node, output
            for section, items in (("tasks", tasks), ("task_groups", groups)):
                for item_name, conf in items.items():
                    for index, dep in enumerate(conf.get("dependencies") or []):
                        with at((section, item_name, "dependencies", index)):
                            nodes[dep] >> nodes[item_name]
            with at(("tasks",)):
                dag.validate()
        finally:
            _context.unregister(dag)  # found through the loader file's globals, or not at all
        return dag

    def _dag(self, params: dict[str, Any]) -> DAG:
        timezone = params.pop("timezone", None) or "UTC"
        ignored = [ui for ui in ("default_view", "orientation") if params.pop(ui, None) is not None]
        if ignored:
            names = " and ".join(f"`{ui}`" for ui in ignored)
            warnings.warn(
                f"DAG '{self.name}': {names}: Airflow 2 web UI settings; tradewind ignores them", stacklevel=2
            )
        default_args = dict(params.pop("default_args", None) or {})
        for field in ("start_date", "end_date"):
            if params.get(field) is not None:
                with at((field,)):
                    params[field] = as_datetime(params[field], timezone)
            if default_args.get(field) is not None:
                with at(("default_args", field)):
                    default_args[field] = as_datetime(default_args[field], default_args.get("timezone") or timezone)
        default_args.pop("timezone", None)
        with at(("default_args",)):
            resolve_callbacks(default_args, self.base)
        with at(()):
            resolve_callbacks(params, self.base, ("on_success_callback", "on_failure_callback"))
        schedule = params.get("schedule")
        if isinstance(schedule, str) and schedule.strip().lower() == "none":
            params["schedule"] = None
        if "doc_md_file_path" in params:
            with at(("doc_md_file_path",)):
                params["doc_md"] = (Path(self.base) / params.pop("doc_md_file_path")).read_text(encoding="utf-8")
        if "doc_md_python_callable_name" in params:
            with at(("doc_md_python_callable_name",)):
                make_doc = callable_from_file(
                    params.pop("doc_md_python_callable_name"), params.pop("doc_md_python_callable_file", ""), self.base
                )
                params["doc_md"] = make_doc(**(params.pop("doc_md_python_arguments", None) or {}))
        if isinstance(params.get("user_defined_macros"), dict):
            with at(("user_defined_macros",)):
                params["user_defined_macros"] = _macros(params["user_defined_macros"])
        tags = list(params.pop("tags", None) or [])
        if "dagfactory" not in tags:
            tags.append("dagfactory")  # as dag-factory marks the DAGs it builds
        with at(()):
            return DAG(self.name, default_args=default_args, tags=tags, **params)

    def _groups(self, groups: dict[str, dict[str, Any]], order: list[str], dag: DAG) -> dict[str, TaskGroup]:
        made: dict[str, TaskGroup] = {}
        for name in order:
            conf = {k: v for k, v in groups[name].items() if k not in ("dependencies", "group_name")}
            parent = conf.pop("parent_group_name", None)
            default_args = dict(conf.pop("default_args", None) or {})
            with at(("task_groups", name)):
                if default_args:
                    with at(("default_args",)):
                        resolve_callbacks(default_args, self.base)
                made[name] = TaskGroup(
                    name, parent_group=made[parent] if parent else None, dag=dag, default_args=default_args, **conf
                )
        return made

    def _task(
        self, name: str, conf: dict[str, Any], groups: dict[str, TaskGroup], outputs: dict[str, Any]
    ) -> tuple[Any, Any]:
        group = groups.get(conf.pop("task_group_name", None) or "")
        conf.pop("dependencies", None)
        context = group if group is not None else contextlib.nullcontext()
        with context:
            if "operator" in conf:
                return self._operator(name, conf, outputs)
            return self._decorated(name, conf, outputs)

    def _operator(self, name: str, conf: dict[str, Any], outputs: dict[str, Any]) -> tuple[Any, Any]:
        path = conf.pop("operator")
        try:
            operator = import_string(path)
        except (ImportError, AttributeError) as exc:
            raise ConfigProblem(("operator",), f"unknown operator `{path}` ({exc})", OPERATORS_HINT) from None
        if not isinstance(operator, type) or not hasattr(operator, "partial"):
            raise ConfigProblem(("operator",), f"`{path}` is not an operator class", OPERATORS_HINT)
        expand = conf.pop("expand", None)
        partial = conf.pop("partial", None) or {}
        if operator.__name__ in PYTHON_OPERATORS or "python_callable" in conf or "python_callable_name" in conf:
            _python_callable(conf, self.base)
            if operator.__name__ in PYTHON_OPERATORS and "python_callable" not in conf:
                raise ConfigProblem(
                    (),
                    f"{operator.__name__} needs `python_callable` (a dotted path) or `python_callable_name` "
                    "and `python_callable_file`",
                )
        resolve_callbacks(conf, self.base)
        if expand:
            duplicated = sorted(set(partial) & set(conf))
            if duplicated:
                raise ConfigProblem(("partial", duplicated[0]), "is given both in `partial` and on the task")
            with at(("partial",)):
                kwargs = {**conf, **{k: _value(v, outputs, True) for k, v in partial.items()}}
                mapped = operator.partial(task_id=name, **kwargs)
            with at(("expand",)):
                task = mapped.expand(**{k: _value(v, outputs, True) for k, v in expand.items()})
        else:
            task = operator(task_id=name, **conf, **partial)
        return task, task.output

    def _decorated(self, name: str, conf: dict[str, Any], outputs: dict[str, Any]) -> tuple[Any, Any]:
        path = conf.pop("decorator")
        try:
            decorator = import_string(path)
        except (ImportError, AttributeError) as exc:
            raise ConfigProblem(
                ("decorator",),
                f"unknown decorator `{path}` ({exc})",
                "e.g. airflow.sdk.task or airflow.decorators.task",
            ) from None
        _python_callable(conf, self.base)
        function = conf.pop("python_callable", None)
        if not callable(function):
            raise ConfigProblem(
                (),
                "a decorator task needs `python_callable` (a dotted path) or `python_callable_name` and "
                "`python_callable_file`",
            )
        resolve_callbacks(conf, self.base)
        expand = conf.pop("expand", None)
        partial = conf.pop("partial", None) or {}
        parameters = {
            p.name
            for p in inspect.signature(function).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        arguments = {
            k: _value(v, outputs, False) for k, v in conf.items() if k in parameters and k not in NOT_ARGUMENTS
        }
        options = {k: v for k, v in conf.items() if k not in arguments}
        factory = decorator(python_callable=function, task_id=name, **options)
        if expand:
            arguments.update({k: _value(v, outputs, True) for k, v in partial.items()})
            with at(("expand",)):
                output = factory.partial(**arguments).expand(**{k: _value(v, outputs, True) for k, v in expand.items()})
        else:
            output = factory(**arguments)
        return output.operator, output
