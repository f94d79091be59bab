"""Where Variables and Connections come from, and which of their values logs must not show.

A lookup asks the environment first (``TRADEWIND_VAR_<KEY>``, then Airflow's
``AIRFLOW_VAR_<KEY>``; ``TRADEWIND_CONN_<ID>``, then ``AIRFLOW_CONN_<ID>``), then the store.
This module knows nothing of the store: the process that owns a store handle installs it as a
:class:`SecretsSource` (the scheduler for its workers, ``dags test`` for itself; see
docs/adr/0011). Without one, only the environment answers.

Masking: a value registered with :func:`mask_secret` is replaced by ``***`` in task logs. A
Connection's password is registered when it is read, and so is a Variable whose name looks
sensitive (contains ``password``, ``secret``, ``token``, ``api_key`` ..., as in Airflow).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol
from urllib.parse import quote

ENV_VARIABLE_PREFIXES = ("TRADEWIND_VAR_", "AIRFLOW_VAR_")
ENV_CONNECTION_PREFIXES = ("TRADEWIND_CONN_", "AIRFLOW_CONN_")

# names (of Variables, and of keys in a Connection's extra) whose values are hidden, as in Airflow 3
SENSITIVE_NAMES = frozenset(
    {
        "access_key",
        "access_token",
        "api_key",
        "apikey",
        "auth_header",
        "authorization",
        "bearer",
        "connection_string",
        "dsn",
        "passphrase",
        "passwd",
        "password",
        "private_key",
        "proxy",
        "proxy_password",
        "proxies",
        "secret",
        "service_account",
        "service_key",
        "token",
        "keyfile_dict",
        "webhook_url",
    }
)
MASK = "***"
_NEVER_MASKED = {"airflow", "tradewind"}  # too common: masking them would garble every log


class SecretsSource(Protocol):
    """A place that holds Variables and Connections (the store). Values are the stored text: a
    Variable's value as set, a Connection as a dict of its fields."""

    def get_variable(self, key: str) -> str | None: ...

    def set_variable(self, key: str, value: str, description: str | None = None) -> None: ...

    def delete_variable(self, key: str) -> bool: ...

    def get_connection(self, conn_id: str) -> dict[str, Any] | None: ...

    def close(self) -> None:
        """Release what the source holds (a database connection pool)."""


_sources: list[SecretsSource] = []


def install(source: SecretsSource) -> None:
    """Make ``source`` answer lookups the environment does not (the last one installed wins)."""
    _sources[:] = [source]


def uninstall() -> None:
    _sources.clear()


def installed() -> SecretsSource | None:
    return _sources[0] if _sources else None


def _from_environment(prefixes: Iterable[str], name: str) -> str | None:
    for prefix in prefixes:
        value = os.environ.get(prefix + name.upper())
        if value is not None:
            return value
    return None


def variable_text(key: str) -> str | None:
    """The stored text of Variable ``key``: from the environment, else from the store."""
    found = _from_environment(ENV_VARIABLE_PREFIXES, key)
    if found is None and _sources:
        found = _sources[0].get_variable(key)
    return found


def connection_fields(conn_id: str) -> str | dict[str, Any] | None:
    """Connection ``conn_id``: a URI or JSON text from the environment, else the store's fields."""
    found = _from_environment(ENV_CONNECTION_PREFIXES, conn_id)
    if found is not None:
        return found
    return _sources[0].get_connection(conn_id) if _sources else None


def writable_source(action: str) -> SecretsSource:
    """The store, for ``Variable.set``/``delete``; an error saying how to get one otherwise."""
    from tradewind.errors import TradewindError

    if not _sources:
        raise TradewindError(
            f"{action}: no store is available in this process to write Variables to; "
            "run `tradewind db migrate` first, or set the variable with `tradewind variables set`"
        )
    return _sources[0]


# -- masking


_masked: set[str] = set()
_pattern: list[re.Pattern[str] | None] = [None]


def is_sensitive(name: str) -> bool:
    """True if a value under this name must be hidden (Airflow's rule: a sensitive word inside it)."""
    normalised = re.sub(r"\W+", "_", name.strip().lower())
    return any(word in normalised for word in SENSITIVE_NAMES)


def mask_secret(value: Any, name: str | None = None) -> None:
    """Hide ``value`` (a string, or every string inside a dict or list) in task logs; with
    ``name``, only if the name looks sensitive."""
    if name is not None and not is_sensitive(name):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            mask_secret(item, None if name is not None else str(key))
        return
    if isinstance(value, (list, tuple, set)):
        for item in value:
            mask_secret(item)
        return
    if value is None or isinstance(value, bool):
        return
    text = str(value)
    if len(text) < 3 or text.lower() in _NEVER_MASKED:  # a 1-2 character mask would hide everything
        return
    added = {text, quote(text, safe="")} - _masked
    if added:
        _masked.update(added)
        _pattern[0] = re.compile("|".join(re.escape(s) for s in sorted(_masked, key=len, reverse=True)))


def redact(text: str) -> str:
    """``text`` with every masked value replaced by ``***``."""
    pattern = _pattern[0]
    return text if pattern is None else pattern.sub(MASK, text)


def redacted(value: Any, name: str | None = None) -> Any:
    """``value`` as the API shows it (Airflow's rule): a string under a sensitive name becomes
    ``***``; dicts are walked key by key and lists item by item; other values are kept."""
    if isinstance(value, dict):
        return {key: redacted(item, str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(item, name) for item in value]
    if isinstance(value, str) and name is not None and is_sensitive(name):
        return MASK
    return value


def unredacted(new: Any, old: Any) -> Any:
    """``new`` with every ``***`` put back to what ``old`` held at the same place, so a value read
    through the API (masked) and sent back unchanged keeps its secrets."""
    if new == MASK:
        return old
    if isinstance(new, dict) and isinstance(old, dict):
        return {key: unredacted(item, old[key]) if key in old else item for key, item in new.items()}
    return new


def clear_masks() -> None:
    _masked.clear()
    _pattern[0] = None


@contextmanager
def installed_for(source: SecretsSource | None) -> Iterator[None]:
    """Install ``source`` (None: none) for the block, then close it and put back what was there."""
    saved = list(_sources)
    _sources[:] = [] if source is None else [source]
    try:
        yield
    finally:
        _sources[:] = saved
        if source is not None:
            source.close()
