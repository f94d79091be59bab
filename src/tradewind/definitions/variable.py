"""``Variable``: named values set outside DAG files (the environment or the store), read by tasks.

    >>> from tradewind import Variable
    >>> Variable.get("bucket", default="dev-bucket")  # doctest: +SKIP

Airflow 2's ``airflow.models.Variable`` and Airflow 3's ``airflow.sdk.Variable`` both resolve here:
``get(key, default_var=...)`` and ``get(key, default=...)`` are the same call.
"""

from __future__ import annotations

import json
from typing import Any

from tradewind.definitions import secrets
from tradewind.errors import TradewindError

_MISSING: Any = object()


class VariableNotFound(TradewindError, KeyError):
    """``Variable.get`` of a key that is set nowhere, without a default."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"Variable {key!r} does not exist: set it with `tradewind variables set {key} VALUE` or the "
            f"environment variable AIRFLOW_VAR_{key.upper()}, or pass default= to Variable.get"
        )

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class Variable:
    """Read and write Variables. Lookup order: ``TRADEWIND_VAR_<KEY>``, ``AIRFLOW_VAR_<KEY>``,
    then the store (``tradewind variables set``). A value whose key looks sensitive
    (``password``, ``secret``, ``token``, ...) is masked in task logs once read."""

    def __init__(self, key: str | None = None, val: Any = None, description: str | None = None) -> None:
        self.key = key
        self.val = val
        self.description = description

    @classmethod
    def get(
        cls,
        key: str,
        default_var: Any = _MISSING,
        deserialize_json: bool = False,
        *,
        default: Any = _MISSING,
    ) -> Any:
        """The value of ``key``; parsed as JSON with ``deserialize_json=True``. Without a default a
        missing key raises :class:`VariableNotFound` (a ``KeyError``, as in Airflow)."""
        fallback = default if default is not _MISSING else default_var
        text = secrets.variable_text(key)
        if text is None:
            if fallback is _MISSING:
                raise VariableNotFound(key)
            secrets.mask_secret(fallback, name=key)
            return fallback
        if deserialize_json:
            try:
                value: Any = json.loads(text)
            except json.JSONDecodeError as exc:
                raise TradewindError(
                    f"Variable.get({key!r}, deserialize_json=True): the value is not JSON ({exc.msg} at "
                    f"character {exc.pos}); store JSON text or leave out deserialize_json"
                ) from None
        else:
            value = text
        secrets.mask_secret(value, name=key)
        return value

    @classmethod
    def set(cls, key: str, value: Any, description: str | None = None, serialize_json: bool = False) -> None:
        """Store ``value`` under ``key`` (as JSON text with ``serialize_json=True``, else ``str(value)``)."""
        text = json.dumps(value, indent=2) if serialize_json else str(value)
        secrets.writable_source(f"Variable.set({key!r})").set_variable(key, text, description)

    @classmethod
    def delete(cls, key: str) -> bool:
        """Remove ``key`` from the store; True if it was there."""
        return secrets.writable_source(f"Variable.delete({key!r})").delete_variable(key)

    @classmethod
    def setdefault(cls, key: str, default: Any, description: str | None = None, deserialize_json: bool = False) -> Any:
        """The value of ``key``; if it is set nowhere, store ``default`` first and return it."""
        found = cls.get(key, default=None, deserialize_json=deserialize_json)
        if found is None:
            cls.set(key, default, description, serialize_json=deserialize_json)
            return default
        return found

    def __repr__(self) -> str:
        return f"<Variable {self.key}>"


class _VariableAccessor:
    """``var.value`` / ``var.json`` in templates: ``{{ var.value.bucket }}``,
    ``{{ var.json.settings.region }}``, ``{{ var.value.get('bucket', 'fallback') }}``."""

    def __init__(self, deserialize_json: bool) -> None:
        self._json = deserialize_json

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        return Variable.get(key, deserialize_json=self._json)

    def __getitem__(self, key: str) -> Any:
        return Variable.get(key, deserialize_json=self._json)

    def get(self, key: str, default: Any = None) -> Any:
        return Variable.get(key, default=default, deserialize_json=self._json)


class VariablesInTemplates:
    """The ``var`` of the template context."""

    def __init__(self) -> None:
        self.value = _VariableAccessor(deserialize_json=False)
        self.json = _VariableAccessor(deserialize_json=True)
