"""Which meaning a DAG file's cron strings and timedeltas get (docs/adr/0008).

With ``[scheduler] create_cron_data_intervals`` (and ``create_delta_data_intervals``) left at
``auto``, the file decides: one that imports what only Airflow 3 has (``airflow.sdk``,
``airflow.providers.standard``) gets Airflow 3's trigger timetables, any other file (Airflow 2
paths, ``from airflow import DAG``, tradewind's own) data intervals. ``true``/``false`` apply to
every file, as in Airflow. The file's own import statements are read (``ast``) before it runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tradewind.config import conf
from tradewind.definitions.timetables import ScheduleDefaults
from tradewind.errors import ConfigError

AIRFLOW3_ONLY = ("airflow.sdk", "airflow.providers.standard")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _setting(key: str) -> bool | None:
    value = conf.get("scheduler", key)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text == "auto":
        return None
    raise ConfigError(f"[scheduler] {key} must be true, false or auto, got {value!r}")


def imported_modules(source: str) -> list[str]:
    """The modules a file's import statements name (none if it does not parse: the import will
    report that)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def defaults_for(path: Path) -> ScheduleDefaults:
    cron, delta = _setting("create_cron_data_intervals"), _setting("create_delta_data_intervals")
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        source = ""
    modules = imported_modules(source)
    newer = next((m for m in modules if any(_is_under(m, p) for p in AIRFLOW3_ONLY)), None)
    if cron is not None and delta is not None:
        why = "[scheduler] create_*_data_intervals"
        return ScheduleDefaults(cron, delta, forced=True, why=why, airflow3=newer is not None)
    if newer is not None:
        why = f"Airflow 3 file (imports {newer})"
        auto = False
    else:
        older = next((m for m in modules if _is_under(m, "airflow")), None)
        why = f"Airflow 2 file (imports {older})" if older else "not an Airflow file"
        auto = True
    return ScheduleDefaults(
        auto if cron is None else cron,
        auto if delta is None else delta,
        forced=False,
        why=why,
        airflow3=newer is not None,
    )
