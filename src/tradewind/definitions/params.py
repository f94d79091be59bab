"""DAG and task params: default values a run's conf may override."""

from __future__ import annotations

from typing import Any

from tradewind.errors import DagDefinitionError

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
    "null": (type(None),),
}


class Param:
    """A param with a default and an optional JSON-schema ``type``, as in Airflow.

    >>> Param(5, type="integer", description="how many")
    """

    def __init__(self, default: Any = None, description: str | None = None, **schema: Any) -> None:
        self.value = default
        self.description = description
        self.schema = schema

    def resolve(self, value: Any = None, *, name: str = "param", use_default: bool = True) -> Any:
        final = self.value if value is None and use_default else value
        kinds = self.schema.get("type")
        if kinds is not None and final is not None:
            names = [kinds] if isinstance(kinds, str) else list(kinds)
            allowed = tuple(t for n in names for t in _JSON_TYPES.get(n, (object,)))
            is_bool_for_number = isinstance(final, bool) and "boolean" not in names
            if not isinstance(final, allowed) or is_bool_for_number:
                raise DagDefinitionError(f"Param '{name}' expects type {kinds}, got {type(final).__name__} ({final!r})")
        return final

    def __repr__(self) -> str:
        return f"Param({self.value!r})"


def resolve_params(declared: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Plain values of ``declared`` params, with ``overrides`` (a run's conf) taking precedence."""
    result: dict[str, Any] = {}
    overrides = overrides or {}
    for name, value in declared.items():
        given = overrides.get(name, None)
        if isinstance(value, Param):
            result[name] = value.resolve(given, name=name)
        else:
            result[name] = given if name in overrides else value
    for name, value in overrides.items():
        result.setdefault(name, value)
    return result


class DagParam:
    """An argument of a ``@dag`` function: stands for ``params[name]`` of the running DAG run."""

    def __init__(self, name: str, default: Any) -> None:
        self.name = name
        self.default = default

    def resolve_param(self, params: dict[str, Any]) -> Any:
        return params.get(self.name, self.default)

    def __repr__(self) -> str:
        return f"DagParam({self.name!r})"
