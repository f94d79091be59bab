"""Options and helpers shared by the commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from tradewind.cli.output import fail
from tradewind.config import conf
from tradewind.definitions.dag import DAG
from tradewind.errors import TradewindError
from tradewind.loader import DagBag, load_dags

dags_folder_option = click.option(
    "--dags-folder",
    "-d",
    "dags_folder",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of DAG files (default: TRADEWIND__CORE__DAGS_FOLDER, else $TRADEWIND_HOME/dags).",
)


def load_bag(dags_folder: Path | None) -> DagBag:
    folder = dags_folder or conf.dags_folder()
    try:
        return load_dags(folder, timeout=float(conf.get("core", "dag_file_processor_timeout")))
    except TradewindError as exc:
        fail(str(exc))
        raise  # unreachable: fail() exits


def parse_logical_date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"logical date {value!r} is not an ISO date or datetime (e.g. 2025-07-01 or 2025-07-01T06:00:00+00:00)")
        raise
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_conf(value: str | None) -> dict[str, Any]:
    """The ``--conf`` option: a JSON object, or a clear error."""
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        fail(f"--conf is not valid JSON: {exc}")
        raise
    if not isinstance(parsed, dict):
        fail("--conf must be a JSON object, e.g. '{\"limit\": 5}'")
    return parsed


def load_dag(dag_id: str, dags_folder: Path | None) -> DAG:
    """One DAG of the folder, or a clear error (with a hint when files failed to import)."""
    bag = load_bag(dags_folder)
    try:
        return bag.get_dag(dag_id)
    except TradewindError as exc:
        fail(str(exc))
        raise
