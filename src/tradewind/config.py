"""Configuration: ``$TRADEWIND_HOME/tradewind.toml`` with every key overridable by
``TRADEWIND__SECTION__KEY`` environment variables. Read on demand, never at import time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tradewind.errors import ConfigError

DEFAULTS: dict[str, dict[str, Any]] = {
    "core": {
        "dags_folder": None,  # default: $TRADEWIND_HOME/dags
        "max_map_length": 1024,
        "parallelism": None,  # default: the CPU count
        "default_timezone": "utc",
        "dag_file_processor_timeout": 50,
        "dags_are_paused_at_creation": False,
    },
    "logging": {"base_log_folder": None},  # default: $TRADEWIND_HOME/logs
    "database": {"url": None},  # default: SQLite file $TRADEWIND_HOME/tradewind.db
}


def home() -> Path:
    return Path(os.environ.get("TRADEWIND_HOME") or Path.home() / "tradewind").expanduser()


def _file_values() -> dict[str, dict[str, Any]]:
    path = home() / "tradewind.toml"
    if not path.is_file():
        return {}
    import tomllib

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def _coerce(raw: str, like: Any) -> Any:
    if isinstance(like, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(like, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"expected a whole number, got {raw!r}") from None
    return raw


class Config:
    """Look up ``section.key``: environment first, then tradewind.toml, then the default."""

    def get(self, section: str, key: str, fallback: Any = None) -> Any:
        default = DEFAULTS.get(section, {}).get(key, fallback)
        env = os.environ.get(f"TRADEWIND__{section.upper()}__{key.upper()}")
        if env is not None:
            try:
                return _coerce(env, default)
            except ConfigError as exc:
                raise ConfigError(f"TRADEWIND__{section.upper()}__{key.upper()}: {exc}") from None
        value = _file_values().get(section, {}).get(key)
        return default if value is None else value

    def getint(self, section: str, key: str, fallback: int | None = None) -> int:
        value = self.get(section, key, fallback)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"[{section}] {key} must be a whole number, got {value!r}") from None

    def dags_folder(self) -> Path:
        folder = self.get("core", "dags_folder")
        return Path(folder).expanduser() if folder else home() / "dags"


conf = Config()
