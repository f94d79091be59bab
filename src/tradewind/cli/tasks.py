"""``tradewind tasks ...``: run one task, read a task's log."""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Any

import click

from tradewind.cli.common import checked_id, dags_folder_option, load_dag, parse_logical_date
from tradewind.cli.output import fail, output_option, print_json
from tradewind.definitions.states import FINISHED_STATES, TaskInstanceState
from tradewind.errors import TradewindError


@click.group()
def tasks() -> None:
    """Inspect and run single tasks."""


@tasks.command("list")
@click.argument("dag_id", callback=checked_id)
@dags_folder_option
@output_option
def list_tasks(dag_id: str, dags_folder: Path | None, output: str) -> None:
    """List a DAG's task ids in dependency order."""
    dag = load_dag(dag_id, dags_folder)
    ids = [t.task_id for t in dag.topological_sort()]
    if output == "json":
        print_json(ids)
    else:
        click.echo("\n".join(ids))


@tasks.command("test")
@click.argument("dag_id", callback=checked_id)
@click.argument("task_id", callback=checked_id)
@click.argument("logical_date", required=False)
@click.option(
    "--map-index",
    type=click.IntRange(min=-1),
    default=-1,
    show_default=True,
    help="Which instance of a mapped task to run.",
)
@dags_folder_option
@output_option
def test(
    dag_id: str, task_id: str, logical_date: str | None, map_index: int, dags_folder: Path | None, output: str
) -> None:
    """Run one task instance in this process, ignoring its trigger rule.

    Tasks whose outputs it consumes (its XCom inputs) run first, quietly, so its arguments are
    real. Exit code 0 when the task succeeds or is skipped, 1 when it fails.
    """
    from tradewind.scheduler.dag_test import test_task

    dag = load_dag(dag_id, dags_folder)
    log = sys.stderr if output == "json" else sys.stdout
    try:
        result = test_task(dag, task_id, log, map_index=map_index, logical_date=parse_logical_date(logical_date))
    except TradewindError as exc:
        fail(str(exc))
        return
    if output == "json":
        print_json(
            {
                "dag_id": dag_id,
                "task_id": task_id,
                "map_index": map_index,
                "state": str(result.state),
                "duration": round(result.duration, 6),
                "return_value": result.return_value,
                "label": result.label,
                "error": result.error.message if result.error else None,
            }
        )
    else:
        click.echo(f"Task {result.key.display}: {result.state}")
    raise SystemExit(1 if result.state is TaskInstanceState.FAILED else 0)


FOLLOW_POLL_SECONDS = 0.5
RUNNING_STATES = {"scheduled", "queued", "running"}  # a try in these may still write its log
FINISHED = {str(s) for s in FINISHED_STATES}


@tasks.command("logs")
@click.argument("dag_id", callback=checked_id)
@click.argument("run_id", callback=checked_id)
@click.argument("task_id", callback=checked_id)
@click.option("--map-index", type=click.IntRange(min=-1), default=-1, show_default=True, help="Which mapped instance.")
@click.option("--try", "try_number", type=click.IntRange(min=1), default=None, help="Which try (default: the latest).")
@click.option("--follow", "-f", is_flag=True, help="Keep printing what the try writes until it ends.")
def logs(dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int | None, follow: bool) -> None:
    """Print the log of one try of a task instance (as the scheduler's workers wrote it).

    Exit code 1 when the DAG, run, task instance or try is unknown or has no log yet.
    """
    from tradewind.cli.orchestrator import gateway, require_run
    from tradewind.executors.local import default_log_folder
    from tradewind.runtime.logs import TaskLogNotFound, task_log_finished

    store = gateway()
    run = require_run(store, dag_id, run_id)
    instance = _instance(store, run, task_id, map_index, wait=follow)
    if follow and not try_number:
        instance = _started(store, instance)  # right after a trigger: wait for its first try
    tries = try_number or instance.try_number
    where = f"{task_id}{f'[{map_index}]' if map_index >= 0 else ''} in run '{run_id}' of '{dag_id}'"
    if tries < 1:
        fail(f"{where} has not run (state: {instance.state or 'none'}): it has no log yet")
    folder = default_log_folder()
    ids = (dag_id, run_id, task_id, map_index, tries)
    offset = 0
    while True:
        try:
            offset = _print_log(folder, ids, offset)
        except TaskLogNotFound as exc:
            if not (follow and _still_running(store, run, task_id, map_index, tries)):
                fail(f"{exc}. Logs are read from {folder}")
        if not follow:
            return
        if task_log_finished(folder, *ids) or not _still_running(store, run, task_id, map_index, tries):
            with contextlib.suppress(TaskLogNotFound):
                _print_log(folder, ids, offset)  # what the try wrote last
            return
        time.sleep(FOLLOW_POLL_SECONDS)


def _print_log(folder: Path, ids: tuple[str, str, str, int, int], offset: int) -> int:
    """Print a try's log from ``offset`` to its current end; returns the offset to go on from."""
    from tradewind.runtime.logs import read_task_log

    while True:
        text, after = read_task_log(folder, *ids, offset=offset)
        if after == offset:
            return offset
        click.echo(text, nl=False)
        offset = after


def _instance(store: Any, run: Any, task_id: str, map_index: int, wait: bool) -> Any:
    """The task instance, or exit 1 saying which task ids or map indexes the run has. With
    ``wait``, an instance the scheduler has not created yet (the run has not started, or the
    mapped task has not expanded) is waited for while the run is queued or running."""
    from sqlalchemy import func, select

    from tradewind.cli.common import did_you_mean
    from tradewind.store.engine import session_scope
    from tradewind.store.models import TaskInstance

    version = store.load_version(run.dag_id, run.dag_hash) if run.dag_hash else None
    task_ids = list(version.task_dict) if version is not None else []
    where = (TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id, TaskInstance.task_id == task_id)
    while True:
        with session_scope(store.engine) as session:
            instance = session.get(TaskInstance, (run.dag_id, run.run_id, task_id, map_index), populate_existing=True)
            if instance is not None:
                session.expunge(instance)
                return instance
            low, high, count = session.execute(
                select(func.min(TaskInstance.map_index), func.max(TaskInstance.map_index), func.count()).where(*where)
            ).one()
        if count and low >= 0:
            indexes = f"map indexes {low}..{high}" if count > 1 else f"map index {low}"
            hint = "pass --map-index N" if map_index < 0 else f"there is no map index {map_index}"
            fail(f"Task '{task_id}' of run '{run.run_id}' is mapped ({indexes}): {hint}")
        if count:
            fail(f"Task '{task_id}' of run '{run.run_id}' is not mapped: leave out --map-index")
        if task_id not in task_ids:
            fail(
                f"DAG '{run.dag_id}' has no task '{task_id}'{did_you_mean(task_id, task_ids)}"
                f" (see `tradewind tasks states-for-dag-run {run.dag_id} {run.run_id}`)"
            )
        if not (wait and _run_state(store, run) in ("queued", "running")):
            fail(
                f"Task '{task_id}' of run '{run.run_id}' has no instances yet (a mapped task has none until it expands)"
            )
        time.sleep(FOLLOW_POLL_SECONDS)


def _run_state(store: Any, run: Any) -> str | None:
    from tradewind.store import queries as q
    from tradewind.store.engine import session_scope

    with session_scope(store.engine) as session:
        found = q.get_dag_run(session, run.dag_id, run.run_id)
        return found.state if found is not None else None


def _started(store: Any, instance: Any) -> Any:
    """The instance once its first try is scheduled, or once it ends without one (skipped,
    upstream_failed) or its run ends."""
    from tradewind.store.engine import session_scope
    from tradewind.store.models import TaskInstance

    key = (instance.dag_id, instance.run_id, instance.task_id, instance.map_index)
    while instance.try_number < 1 and instance.state not in FINISHED:
        if _run_state(store, instance) not in ("queued", "running"):
            break
        time.sleep(FOLLOW_POLL_SECONDS)
        with session_scope(store.engine) as session:
            instance = session.get(TaskInstance, key, populate_existing=True)
            if instance is None:
                fail(f"{key[2]} in run '{key[1]}' of '{key[0]}' was removed before it ran")
            session.expunge(instance)
    return instance


def _still_running(store: Any, run: Any, task_id: str, map_index: int, tries: int) -> bool:
    """Whether this try may still write to its log (it waits, is queued, or runs)."""
    from tradewind.store.engine import session_scope
    from tradewind.store.models import TaskInstance

    with session_scope(store.engine) as session:
        instance = session.get(TaskInstance, (run.dag_id, run.run_id, task_id, map_index), populate_existing=True)
        if instance is None:
            return False
        return instance.try_number == tries and instance.state in RUNNING_STATES
