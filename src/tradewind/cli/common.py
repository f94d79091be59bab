"""Options and helpers shared by the commands."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
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
    from tradewind.definitions import secrets
    from tradewind.store.secrets import existing_store_secrets

    folder = dags_folder or conf.dags_folder()
    try:
        # a DAG file may read Variables at the top level, as Airflow allows (the store's too)
        with secrets.installed_for(existing_store_secrets()):
            return load_dags(folder, timeout=float(conf.get("core", "dag_file_processor_timeout")))
    except TradewindError as exc:
        fail(str(exc))
        raise  # unreachable: fail() exits


ID_LENGTH = 250  # the store's limit for dag_id, run_id, task_id and pool names
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def id_problem(value: str) -> str | None:
    """What is wrong with an id (dag_id, run_id, task_id, pool name), or None when it is fine."""
    if not value:
        return "must not be empty"
    found = CONTROL.search(value)
    if found:
        return f"contains the control character {found.group()!r}: use printable characters only"
    if len(value) > ID_LENGTH:
        return f"is {len(value)} characters long: use at most {ID_LENGTH} characters"
    return None


def checked_id(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback for every id argument or option: no control characters, no empty ids,
    at most 250 characters, so an id never breaks a log line or a table row."""
    if value is None:
        return None
    problem = id_problem(value)
    if problem:
        raise click.BadParameter(f"{value[:40]!r}{'...' if len(value) > 40 else ''} {problem}")
    return value


def checked_regex(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback for ``--task-regex``: the pattern must compile."""
    if value is None:
        return None
    try:
        re.compile(value)
    except re.error as exc:
        raise click.BadParameter(
            f"{value!r} is not a valid regular expression ({exc}): escape characters meant literally, e.g. '\\['"
        ) from None
    return value


def parse_logical_date(value: str | None, what: str = "logical date") -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{what} {value!r} is not an ISO date or datetime (e.g. 2025-07-01 or 2025-07-01T06:00:00+00:00)")
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
        fail(str(exc) + did_you_mean(dag_id, bag.dags))
        raise


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """`` Did you mean 'etl_daily'?`` when an id is close to known ones, else ``""``."""
    close = difflib.get_close_matches(value, list(known), n=3, cutoff=0.6)
    return f". Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
