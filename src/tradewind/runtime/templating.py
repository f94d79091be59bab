"""Rendering an operator's ``template_fields`` with Jinja, after resolving task outputs.

jinja2 is imported only when a value actually looks like a template, so tasks without
templates (most TaskFlow tasks) pay nothing for it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tradewind.definitions import templater
from tradewind.definitions.airflow_types import literal
from tradewind.definitions.params import DagParam
from tradewind.definitions.xcom_arg import XComArg
from tradewind.runtime.inputs import InputsSource

if TYPE_CHECKING:
    from tradewind.definitions.baseoperator import BaseOperator
    from tradewind.definitions.dag import DAG

_MARKERS = ("{{", "{%", "{#")
_environments: dict[int, Any] = {}


def _environment(dag: DAG | None) -> Any:
    key = id(dag)
    if key in _environments:
        return _environments[key]
    import jinja2
    import jinja2.nativetypes
    import jinja2.sandbox

    searchpath: list[str] = []
    if dag is not None:
        if dag.fileloc:
            searchpath.append(os.path.dirname(dag.fileloc))
        searchpath.extend(dag.template_searchpath)
    options: dict[str, Any] = {
        "undefined": (dag.template_undefined if dag is not None else None) or jinja2.StrictUndefined,
        "loader": jinja2.FileSystemLoader(searchpath or ["."]),
        "extensions": ["jinja2.ext.do"],  # Airflow 3's environment: {% do %}, no trailing newline kept
        **(dag.jinja_environment_kwargs if dag else {}),
    }
    native = dag is not None and dag.render_template_as_native_obj
    env_class = jinja2.nativetypes.NativeEnvironment if native else jinja2.sandbox.SandboxedEnvironment
    env = env_class(**options)
    env.filters.update(
        {
            "ds": lambda value: value.strftime("%Y-%m-%d"),
            "ds_nodash": lambda value: value.strftime("%Y%m%d"),
            "ts": lambda value: value.isoformat(),
            "ts_nodash": lambda value: value.strftime("%Y%m%dT%H%M%S"),
            "ts_nodash_with_tz": lambda value: value.isoformat().replace("-", "").replace(":", ""),
        }
    )
    if dag is not None:
        env.filters.update(dag.user_defined_filters)
    _environments[key] = env
    return env


def render_string(text: str, context: dict[str, Any], dag: DAG | None, extensions: tuple[str, ...] = ()) -> Any:
    """Render one string: a template file if it ends with a template extension, else inline."""
    if extensions and text.endswith(extensions):
        env = _environment(dag)
        return env.get_template(text).render(**_with_macros(context, dag))
    if not any(marker in text for marker in _MARKERS):
        return text
    return _environment(dag).from_string(text).render(**_with_macros(context, dag))


def _with_macros(context: dict[str, Any], dag: DAG | None) -> dict[str, Any]:
    if dag is not None and dag.user_defined_macros:
        return {**dag.user_defined_macros, **context}
    return context


def render_value(
    value: Any, context: dict[str, Any], dag: DAG | None, source: InputsSource, extensions: tuple[str, ...] = ()
) -> Any:
    """Resolve task outputs and DAG params, and render strings, anywhere inside ``value``."""
    if isinstance(value, XComArg):
        return value.resolve(source)  # an upstream's value is data, never a template
    if isinstance(value, literal):
        return value.value  # airflow.sdk.literal: passed as it is, never rendered
    if isinstance(value, DagParam):
        return value.resolve_param(context["params"])
    if isinstance(value, str):
        return render_string(value, context, dag, extensions)
    if isinstance(value, list):
        return [render_value(v, context, dag, source, extensions) for v in value]
    if isinstance(value, tuple):
        return tuple(render_value(v, context, dag, source, extensions) for v in value)
    if isinstance(value, dict):
        return {k: render_value(v, context, dag, source, extensions) for k, v in value.items()}
    return value


def render_template_fields(operator: BaseOperator, context: dict[str, Any], source: InputsSource) -> None:
    """Render every templated field of ``operator`` in place; values that came from a task's
    output through mapping stay as they are."""
    mapped: frozenset[str] = getattr(operator, "unrendered_keys", frozenset())
    extensions = tuple(operator.template_ext)
    for field in operator.template_fields:
        if field in mapped:
            continue
        value = getattr(operator, field, None)
        if value is None:
            continue
        if field == "op_kwargs" and mapped:
            rendered = {
                k: (v if k in mapped else render_value(v, context, operator.dag, source, extensions))
                for k, v in value.items()
            }
        else:
            rendered = render_value(value, context, operator.dag, source, extensions)
        object.__setattr__(operator, field, rendered)


def _render_for_operator(operator: Any, content: Any, context: Mapping[str, Any]) -> Any:
    """``operator.render_template(content, context)`` (definitions/templater.py)."""
    return render_value(content, dict(context), getattr(operator, "dag", None), InputsSource({}))


templater.register(_render_for_operator)
