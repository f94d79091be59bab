"""``dags backfill`` and ``tasks clear``: create or reset runs, then let the scheduler work."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path
from typing import Any

import click

from tradewind.cli.common import checked_id, checked_regex, dags_folder_option, parse_logical_date
from tradewind.cli.orchestrator import parallelism_option, require_run, stored_dag
from tradewind.cli.output import SUMMARY_ROWS, fail, print_failures
from tradewind.config import conf, home
from tradewind.errors import TradewindError

SUMMARY_RUNS = 5  # failed runs whose failures a backfill's summary names


@click.command("backfill")
@click.argument("dag_id", callback=checked_id)
@click.option("--start-date", "-s", required=True, help="First logical date to run (ISO).")
@click.option("--end-date", "-e", required=True, help="Last logical date to run (ISO).")
@dags_folder_option
@parallelism_option
def backfill(dag_id: str, start_date: str, end_date: str, dags_folder: Path | None, parallelism: int | None) -> None:
    """Run every scheduled interval between two dates, with a progress bar of runs and tasks.

    Runs here unless a scheduler is already running, in which case this waits for it.
    """
    from rich.progress import Progress

    from tradewind.scheduler.lock import DatabaseLease, LeaseLost, LockHeld, SchedulerLock

    start = parse_logical_date(start_date, "--start-date")
    end = parse_logical_date(end_date, "--end-date")
    store, dag = stored_dag(dag_id, dags_folder)
    if start is None or end is None or end < start:
        fail("--end-date is before --start-date")
    try:
        runs = store.create_backfill_runs(dag, start, end)
    except TradewindError as exc:
        fail(str(exc))
    if not runs:
        click.echo(f"No scheduled interval of {dag_id} starts between {start} and {end}.")
        return
    run_ids = [context.run_id for context in runs]
    click.echo(f"Backfilling {len(run_ids)} run(s) of {dag_id}")
    with Progress(transient=False) as progress:
        runs_bar = progress.add_task("runs", total=len(run_ids))
        tasks_bar = progress.add_task("task instances", total=None)

        def update() -> bool:
            done_runs, done_tis, all_tis = store.progress(dag_id, run_ids)
            progress.update(runs_bar, completed=done_runs)
            progress.update(tasks_bar, completed=done_tis, total=max(all_tis, 1))
            return done_runs >= len(run_ids)

        try:
            with SchedulerLock(home() / "scheduler.pid"), DatabaseLease(store.engine) as lease:
                from tradewind.executors.local import LocalExecutor, task_log_path
                from tradewind.scheduler.loop import Scheduler

                scheduler = Scheduler(
                    store,
                    LocalExecutor(parallelism=parallelism),
                    log=io.StringIO(),
                    max_map_length=conf.getint("core", "max_map_length"),
                    log_path=task_log_path,
                    only_run_ids=set(run_ids),
                    heartbeat=lease.heartbeat,
                )
                scheduler.run(should_stop=update)
        except LeaseLost as exc:
            fail(str(exc))
        except LockHeld:
            click.echo("A scheduler is running: it will run the backfill; waiting for it", err=True)
            while not update():
                time.sleep(0.5)
        update()
    failed = [r.run_id for r in store.list_runs(dag_id) if r.run_id in run_ids and r.state == "failed"]
    for run_id in sorted(failed)[:SUMMARY_RUNS]:
        rows, total = store.task_states_page(dag_id, run_id, states=["failed"], limit=SUMMARY_ROWS)
        more = f"see `tradewind tasks states-for-dag-run {dag_id} {run_id} --state failed`"
        print_failures(rows, more, total=total, heading=f"Run {run_id}: ")
    if len(failed) > SUMMARY_RUNS:
        click.echo(f"... and {len(failed) - SUMMARY_RUNS} more failed run(s): see `tradewind dags list-runs {dag_id}`")
    click.echo(f"Backfill of {dag_id}: {len(run_ids) - len(failed)} succeeded, {len(failed)} failed")
    raise SystemExit(1 if failed else 0)


@click.command("clear")
@click.argument("dag_id", callback=checked_id)
@click.option(
    "--task-regex",
    "-t",
    default=None,
    callback=checked_regex,
    help="Only tasks whose id matches this regular expression.",
)
@click.option(
    "--map-index", type=click.IntRange(min=-1), default=None, help="Only this instance of mapped tasks (-1: unmapped)."
)
@click.option("--only-failed", is_flag=True, help="Only failed and upstream_failed instances.")
@click.option(
    "--run-id", default=None, callback=checked_id, help="Only this run (default: every finished run of the DAG)."
)
@click.option("--no-downstream", is_flag=True, help="Do not clear the downstream tasks too.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@dags_folder_option
def clear(
    dag_id: str,
    task_regex: str | None,
    map_index: int | None,
    only_failed: bool,
    run_id: str | None,
    no_downstream: bool,
    yes: bool,
    dags_folder: Path | None,
) -> None:
    """Reset task instances so the scheduler runs them again."""
    store, dag = stored_dag(dag_id, dags_folder)
    selection: dict[str, Any] = {
        "run_id": run_id,
        "task_regex": task_regex,
        "map_index": map_index,
        "only_failed": only_failed,
        "downstream": not no_downstream,
    }
    if run_id is not None:
        require_run(store, dag_id, run_id)
    try:
        cleared: list[Any] = store.clear(dag, dry_run=True, **selection)
    except TradewindError as exc:
        fail(str(exc))
    if not cleared:
        click.echo("Nothing to clear.")
        return
    for row in cleared:
        click.echo(f"  {row[0]}  {row[1]}" + (f"[{row[2]}]" if row[2] >= 0 else ""))
    for other_dag, other_run, other_task, other_index in store.marked_cleared:  # through ExternalTaskMarkers
        click.echo(
            f"  {other_run}  {other_task}" + (f"[{other_index}]" if other_index >= 0 else "") + f"  (DAG {other_dag})"
        )
    total = len(cleared) + len(store.marked_cleared)
    if not yes and not (sys.stdin.isatty() and click.confirm(f"Clear {total} task instance(s)?")):
        fail("Not cleared (pass --yes to clear without asking)")
    try:
        store.clear(dag, dry_run=False, **selection)
    except TradewindError as exc:
        fail(str(exc))
    click.echo(f"Cleared {total} task instance(s); their runs are queued for the scheduler.")
