"""DAG and task params: default values a run's conf may override, checked against their JSON
schema as Airflow checks them (``jsonschema``, loaded only when a schema is checked)."""

from __future__ import annotations

import json
from typing import Any

from tradewind.errors import DagDefinitionError


class _NotSet:
    """The default of a Param that has none: a run must give it a value in its conf."""

    _instance: _NotSet | None = None

    def __new__(cls) -> _NotSet:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOTSET"


NOTSET: Any = _NotSet()

# keys Airflow's trigger form reads; they describe the param and are not rules of its schema
_FORM_KEYS = ("title", "section", "values_display", "description_md", "examples")


class ParamValidationError(DagDefinitionError):
    """A param's value breaks its schema, or a param without a default was given no value."""


def schema_error(name: str, value: Any, schema: dict[str, Any]) -> str | None:
    """Why ``value`` breaks ``schema`` (naming the param, the value and the rule), or None.

    >>> schema_error("n", 12, {"type": "integer", "maximum": 10})
    "param 'n': value 12 breaks maximum=10 (12 is greater than the maximum of 10)"
    """
    if not schema:
        return None
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import SchemaError, best_match

    try:
        validator = Draft202012Validator(schema, format_checker=FormatChecker())
        error = best_match(validator.iter_errors(value))
    except SchemaError as exc:
        return f"param '{name}': its schema is not valid JSON schema ({exc.message})"
    if error is None:
        return None
    where = "".join(f"[{part!r}]" for part in error.absolute_path)
    rule = f"{error.validator}={json.dumps(error.validator_value, default=str)}"
    shown = json.dumps(value, default=str)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"param '{name}{where}': value {shown} breaks {rule} ({error.message})"


class Param:
    """A param with a default and a JSON schema (``type``, ``enum``, ``minimum``, ``maxLength``,
    ``format``, ...), as in Airflow. Without a default, a run must give a value in its conf.

    >>> Param(5, type="integer", minimum=1, description="how many")
    Param(5)
    """

    def __init__(self, default: Any = NOTSET, description: str | None = None, **schema: Any) -> None:
        if default is not NOTSET:
            _check_json(default, "default")
        self.value = default
        self.description = description
        self.schema: dict[str, Any] = schema.pop("schema") if "schema" in schema else schema

    @property
    def has_default(self) -> bool:
        return self.value is not NOTSET

    def rules(self) -> dict[str, Any]:
        """The schema the value is checked against (without the form's display keys)."""
        return {k: v for k, v in self.schema.items() if k not in _FORM_KEYS}

    def resolve(self, value: Any = NOTSET, *, name: str = "param") -> Any:
        """The final value: ``value`` when given, else the default; ParamValidationError when
        there is neither or it breaks the schema."""
        if value is not NOTSET:
            _check_json(value, f"param '{name}'")
        final = self.value if value is NOTSET else value
        if final is NOTSET:
            raise ParamValidationError(
                f"param '{name}' has no value: it has no default, so the run's conf must give one, "
                f'e.g. {{"{name}": ...}}'
            )
        problem = schema_error(name, final, self.rules())
        if problem is not None:
            raise ParamValidationError(problem)
        return final

    def __repr__(self) -> str:
        return f"Param({self.value!r})"


def _check_json(value: Any, what: str) -> None:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise ParamValidationError(
            f"{what}: value {value!r} is not a JSON value (params hold strings, numbers, booleans, "
            "null, lists and objects)"
        ) from None


def check_defaults(dag_id: str, declared: dict[str, Any], *, scheduled: bool) -> None:
    """At import: every default must fit its schema; a param without a default is allowed only
    when the DAG has no schedule (a scheduled run has no conf to give it), as in Airflow 3."""
    for name, value in declared.items():
        if not isinstance(value, Param):
            continue
        if not value.has_default:
            if scheduled:
                raise ParamValidationError(
                    f"DAG '{dag_id}': param '{name}' has no default, so a scheduled run could not give "
                    "it a value; give it a default or use schedule=None"
                )
            continue
        try:
            value.resolve(name=name)
        except ParamValidationError as exc:
            raise ParamValidationError(f"DAG '{dag_id}': the default of {exc}") from None


def resolve_params(declared: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Plain values of ``declared`` params, with ``overrides`` (a run's conf) taking precedence;
    ParamValidationError naming the first param whose value breaks its schema."""
    result: dict[str, Any] = {}
    overrides = overrides or {}
    for name, value in declared.items():
        if isinstance(value, Param):
            result[name] = value.resolve(overrides.get(name, NOTSET), name=name)
        else:
            result[name] = overrides[name] if name in overrides else value
    for name, value in overrides.items():
        result.setdefault(name, value)
    return result


def plain_values(declared: dict[str, Any]) -> dict[str, Any]:
    """The defaults of ``declared`` (a Param's value; None for one without a default), unchecked."""
    return {
        name: (None if value.value is NOTSET else value.value) if isinstance(value, Param) else value
        for name, value in declared.items()
    }


class DagParam:
    """An argument of a ``@dag`` function: stands for ``params[name]`` of the running DAG run."""

    def __init__(self, name: str, default: Any) -> None:
        self.name = name
        self.default = default

    def resolve_param(self, params: dict[str, Any]) -> Any:
        return params.get(self.name, self.default)

    def __repr__(self) -> str:
        return f"DagParam({self.name!r})"
