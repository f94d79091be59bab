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
        "max_map_length": 100_000,  # Airflow caps at 1,024; past this the producer fails
        "parallelism": None,  # default: the CPU count
        "default_timezone": "utc",
        "dagbag_import_timeout": 30,  # seconds one DAG file's import may take
        "dag_file_processor_timeout": 50,  # seconds before the process importing a file is killed
        "dags_are_paused_at_creation": False,
    },
    "dag_processor": {
        "parsing_processes": None,  # files imported at once; default: the CPU count
        "refresh_interval": 2.0,  # seconds between looks at the DAGs folder for changes
        "memory_limit_mb": 0,  # address-space limit of the process importing a file; 0: none
    },
    "logging": {
        "base_log_folder": None,  # default: $TRADEWIND_HOME/logs
        # modes of the task logs and their folders (less the umask): e.g. 0640/0750 for readers in the group
        "file_mode": "0600",
        "folder_mode": "0700",
    },
    "database": {"url": None},  # default: SQLite file $TRADEWIND_HOME/tradewind.db
    "scheduler": {
        # one active scheduler per database: it holds a lease row, renewed this often (seconds)...
        "lease_renew_seconds": 5,
        # ...that lapses this long after its last renewal, for another scheduler to take over
        "lease_seconds": 30,
        # a fault of the machine (e.g. a task log that cannot be written): work is paused this
        # long, doubling while the fault lasts, up to the maximum (seconds)
        "fault_pause_seconds": 5,
        "fault_pause_max_seconds": 60,
        # schedules (docs/schedules.md, adr/0008): what a cron string / a timedelta means.
        # true: data intervals (Airflow 2); false: trigger times (Airflow 3's default);
        # auto: by the DAG file: one importing airflow.sdk or airflow.providers.standard gets
        # trigger times, any other data intervals
        "create_cron_data_intervals": "auto",
        "create_delta_data_intervals": "auto",
    },
    # the REST API and web UI (`tradewind api-server`)
    "api": {
        "host": "127.0.0.1",  # loopback: reachable from this machine only
        "port": 8080,
        "jwt_expiration_seconds": 86_400,  # lifetime of a bearer token (Airflow's [api_auth] jwt_expiration_time)
        "fallback_page_limit": 50,  # `limit` when a list call gives none (Airflow's default)
        "maximum_page_limit": 100,  # a larger `limit` is cut to this (as Airflow's [api] maximum_page_limit)
    },
}


# files that hold state or secrets (the SQLite store, tradewind.toml, logs) are the owner's alone
PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700


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

    def getmode(self, section: str, key: str, *, least: int) -> int:
        """A permission mode, written in octal ("0640", or 0o640 in TOML), that grants at least ``least``."""
        value = self.get(section, key)
        try:
            mode = value if isinstance(value, int) and not isinstance(value, bool) else int(str(value).strip(), 8)
        except ValueError:
            mode = -1
        if not 0 <= mode <= 0o777 or mode & least != least:
            raise ConfigError(
                f"[{section}] {key} must be an octal permission mode that includes {least:04o} (tradewind "
                f"reads and writes what it creates), e.g. {least:04o}; got {value!r}"
            )
        return mode

    def log_modes(self) -> tuple[int, int]:
        """The modes of task log files and of their folders: ``[logging] file_mode``, ``folder_mode``."""
        return (
            self.getmode("logging", "file_mode", least=PRIVATE_FILE_MODE),
            self.getmode("logging", "folder_mode", least=PRIVATE_FOLDER_MODE),
        )

    def dags_folder(self) -> Path:
        folder = self.get("core", "dags_folder")
        return Path(folder).expanduser() if folder else home() / "dags"


conf = Config()


def make_folders(path: Path | str, mode: int = PRIVATE_FOLDER_MODE) -> None:
    """Create the folder ``path`` and any missing parents with ``mode`` (less the umask; unlike
    ``os.makedirs``, for the parents too). Folders that exist are left as they are."""
    missing: list[str] = []
    folder = os.path.abspath(path)
    while not os.path.isdir(folder):
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, mode)
        except FileExistsError:
            if not os.path.isdir(folder):
                raise


def create_private_file(path: Path | str, mode: int = PRIVATE_FILE_MODE) -> None:
    """Create ``path`` empty with ``mode`` (less the umask) unless it exists; an existing file keeps
    its mode and is not opened at all (closing a descriptor of an SQLite database drops every
    POSIX lock this process holds on it, which lets another process delete the WAL under it)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
    except FileExistsError:
        pass
