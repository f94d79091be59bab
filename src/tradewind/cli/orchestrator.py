"""Commands that use the store and the scheduler: scheduler, standalone, trigger, pause, runs.

Everything heavy (SQLAlchemy, the executor) is imported inside the commands, so ``dags list``
and ``dags test`` stay fast.
"""

from __future__ import annotations

import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from tradewind.cli.common import checked_id, dags_folder_option, did_you_mean, parse_conf, parse_logical_date
from tradewind.cli.output import fail, first_line, output_option, print_json, print_table, short_time
from tradewind.config import conf, home
from tradewind.definitions.states import TaskInstanceState
from tradewind.errors import TradewindError


def gateway() -> Any:
    from tradewind.scheduler.persistence import StoreGateway
    from tradewind.store.engine import make_engine, migrate

    engine = make_engine()
    migrate(engine)
    return StoreGateway(engine)


def processor_for(store: Any, dags_folder: Path | None, say: Any = None) -> Any:
    from tradewind.processor import DagProcessor

    folder = dags_folder or conf.dags_folder()
    return DagProcessor(folder, store.engine, say=say)


def refreshed_gateway(dags_folder: Path | None) -> Any:
    """The store, with the DAG processor's records brought up to date with the folder first
    (files that did not change are not imported; those that did are, in child processes)."""
    store = gateway()
    folder = dags_folder or conf.dags_folder()
    if folder.exists():
        processor_for(store, folder).run_once()
    return store


def stored_dag(dag_id: str, dags_folder: Path | None) -> tuple[Any, Any]:
    """The store and the newest serialized version of a DAG, or a clear error."""
    store = refreshed_gateway(dags_folder)
    try:
        return store, store.get_dag(dag_id)
    except TradewindError as exc:
        fail(str(exc) + did_you_mean(dag_id, dag_ids(store)))
        raise


def dag_ids(store: Any, only_active: bool = True) -> list[str]:
    """The ids of the DAGs in the store (the active ones: their file still defines them)."""
    from tradewind.store import queries as q
    from tradewind.store.engine import session_scope

    with session_scope(store.engine) as session:
        return [row.dag_id for row in q.list_dags(session, only_active=only_active)]


def require_dag(store: Any, dag_id: str) -> None:
    """Exit 1 with a did-you-mean unless the store knows the DAG (the DAG processor is run once
    first if it does not, for a DAG file it has not stored yet)."""
    from tradewind.store import queries as q
    from tradewind.store.engine import session_scope

    for attempt in range(2):
        with session_scope(store.engine) as session:
            if q.get_dag(session, dag_id) is not None:
                return
        known = dag_ids(store, only_active=False)
        if attempt == 0 and conf.dags_folder().exists():
            refreshed_gateway(None)
    fail(f"DAG '{dag_id}' not found{did_you_mean(dag_id, known)} (see `tradewind dags list` for the DAGs there are)")


def require_run(store: Any, dag_id: str, run_id: str) -> Any:
    """The run, or exit 1 (unknown DAG, or unknown run with a did-you-mean among the DAG's runs)."""
    from tradewind.store import queries as q
    from tradewind.store.engine import session_scope

    require_dag(store, dag_id)
    with session_scope(store.engine) as session:
        run = q.get_dag_run(session, dag_id, run_id)
        if run is None:
            known = [r.run_id for r in q.list_dag_runs(session, dag_id)]
            hint = did_you_mean(run_id, known) if known else ". It has no runs yet"
            fail(f"{q.DagRunNotFound(dag_id, run_id)}{hint} (see `tradewind dags list-runs {dag_id}`)")
        session.expunge(run)
    return run


def _executor(name: str, parallelism: int | None) -> Any:
    if name == "inline":
        raise click.UsageError("the scheduler needs a process executor: use --executor local")
    from tradewind.executors.local import LocalExecutor

    return LocalExecutor(parallelism=parallelism)


def run_scheduler(
    dags_folder: Path | None,
    executor: str,
    parallelism: int | None,
    exit_when_idle: bool,
    with_processor: bool = True,
) -> None:
    from tradewind.executors.local import task_log_path
    from tradewind.scheduler.lock import DatabaseLease, LeaseLost, LockHeld, SchedulerLock
    from tradewind.scheduler.loop import Scheduler

    folder = dags_folder or conf.dags_folder()
    stopping = {"now": False}

    def on_signal(signum: int, frame: Any) -> None:
        if stopping["now"]:
            raise KeyboardInterrupt
        stopping["now"] = True
        click.echo("Stopping: waiting for running tasks to finish (press Ctrl-C again to stop at once)", err=True)

    lock = SchedulerLock(home() / "scheduler.pid")
    try:
        lock.acquire()
    except LockHeld as exc:
        fail(str(exc))
    lease = None
    try:
        store = gateway()
        lease = DatabaseLease(store.engine)
        try:
            lease.acquire()
        except LockHeld as exc:
            fail(str(exc))
        if lease.note:
            click.echo(f"scheduler: {lease.note}", err=True)
        scheduler = Scheduler(
            store,
            _executor(executor, parallelism),
            processor=processor_for(store, folder, say=say_processor) if with_processor else None,
            log=sys.stderr,
            max_map_length=conf.getint("core", "max_map_length"),
            log_path=task_log_path,
            heartbeat=lease.heartbeat,
        )
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        try:
            scheduler.run(until_idle=exit_when_idle, should_stop=lambda: stopping["now"])
        except LeaseLost as exc:
            fail(str(exc))
    finally:
        if lease is not None:
            lease.release()
        lock.release()


def say_processor(message: str) -> None:
    click.echo(f"dag-processor: {message}", err=True)


executor_option = click.option(
    "--executor", type=click.Choice(["local"]), default="local", show_default=True, help="Where tasks run."
)
parallelism_option = click.option(
    "--parallelism", type=click.IntRange(min=1), default=None, help="Worker processes, 1 or more (default: CPUs)."
)


@click.command("scheduler")
@dags_folder_option
@executor_option
@parallelism_option
@click.option("--exit-when-idle", is_flag=True, help="Stop once no run is active or queued.")
@click.option(
    "--no-dag-processor", is_flag=True, help="Do not parse DAG files here (a `tradewind dag-processor` does)."
)
def scheduler_command(
    dags_folder: Path | None, executor: str, parallelism: int | None, exit_when_idle: bool, no_dag_processor: bool
) -> None:
    """Run the scheduler until stopped (Ctrl-C lets running tasks finish).

    It starts a DAG processor that imports DAG files in child processes and stores their DAGs;
    the scheduler itself never imports a DAG file."""
    run_scheduler(dags_folder, executor, parallelism, exit_when_idle, with_processor=not no_dag_processor)


@click.command("dag-processor")
@dags_folder_option
@click.option("--once", is_flag=True, help="Bring the store up to date with the folder, then exit.")
def dag_processor_command(dags_folder: Path | None, once: bool) -> None:
    """Import DAG files (each in a child process, with a time limit) and store their DAGs."""
    store = gateway()
    processor = processor_for(store, dags_folder, say=say_processor)
    if once:
        report = processor.run_once()
        counts = f"{report.new_versions} new DAG version(s), {report.errors} import error(s)"
        click.echo(f"{report.imported} file(s) imported, {counts}")
        return
    stopping = {"now": False}

    def on_signal(signum: int, frame: Any) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    click.echo(f"dag-processor: watching {processor.folder}", err=True)
    processor.run_forever(should_stop=lambda: stopping["now"])


@click.command("standalone")
@dags_folder_option
@parallelism_option
def standalone_command(dags_folder: Path | None, parallelism: int | None) -> None:
    """Create or upgrade the database, then run the scheduler; prints where everything is."""
    from tradewind.store.engine import describe_url, make_engine, migrate

    engine = make_engine()
    migrate(engine)
    folder = dags_folder or conf.dags_folder()
    click.echo(f"tradewind home:  {home()}")
    click.echo(f"database:        {describe_url(engine)}")
    click.echo(f"DAGs folder:     {folder}")
    click.echo(f"task logs:       {conf.get('logging', 'base_log_folder') or home() / 'logs'}")
    click.echo("Trigger a run with `tradewind dags trigger DAG_ID`; stop with Ctrl-C.")
    from tradewind.cli.server import api_server_beside

    with api_server_beside(engine):  # the web UI and API, and the admin login printed
        run_scheduler(folder, "local", parallelism, exit_when_idle=False)


@click.command("trigger")
@click.argument("dag_id", callback=checked_id)
@dags_folder_option
@click.option("--conf", "-c", "run_conf", help="JSON object passed as the run's conf.")
@click.option(
    "--logical-date",
    "-l",
    help="Logical date of the run (default: now; none for a DAG of an Airflow 3 file, as in Airflow 3).",
)
@click.option("--run-id", "-r", callback=checked_id, help="Run id (default: manual__<logical date>).")
@output_option
def trigger(
    dag_id: str,
    dags_folder: Path | None,
    run_conf: str | None,
    logical_date: str | None,
    run_id: str | None,
    output: str,
) -> None:
    """Queue a manual run of a DAG; a running scheduler starts it."""
    from tradewind.control.operations import trigger_run

    store, _ = stored_dag(dag_id, dags_folder)
    try:
        run = trigger_run(
            store.engine,
            dag_id,
            conf=parse_conf(run_conf),
            logical_date=parse_logical_date(logical_date),
            run_id=run_id,
        )
    except TradewindError as exc:
        fail(str(exc))
    paused = store.is_paused(dag_id)
    if output == "json":
        print_json({"dag_id": dag_id, "run_id": run.run_id, "logical_date": _iso(run.logical_date)})
    else:
        click.echo(f"Queued run {run.run_id} of {dag_id}")
    if paused:
        click.echo(f"DAG {dag_id} is paused: the run starts once you unpause it", err=True)


def _set_paused(dag_id: str, dags_folder: Path | None, paused: bool) -> None:
    from tradewind.control.operations import set_paused

    store, _ = stored_dag(dag_id, dags_folder)
    try:
        set_paused(store.engine, dag_id, paused)
    except TradewindError as exc:
        fail(str(exc))
    click.echo(f"DAG {dag_id} is {'paused' if paused else 'unpaused'}")


@click.command("pause")
@click.argument("dag_id", callback=checked_id)
@dags_folder_option
def pause(dag_id: str, dags_folder: Path | None) -> None:
    """Pause a DAG: no new runs start."""
    _set_paused(dag_id, dags_folder, True)


@click.command("unpause")
@click.argument("dag_id", callback=checked_id)
@dags_folder_option
def unpause(dag_id: str, dags_folder: Path | None) -> None:
    """Unpause a DAG: its schedule and queued runs go on."""
    _set_paused(dag_id, dags_folder, False)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@click.command("list-runs")
@click.argument("dag_id", callback=checked_id)
@output_option
def list_runs(dag_id: str, output: str) -> None:
    """The runs of a DAG, newest first, with the DAG version each runs."""
    store = gateway()
    runs = store.list_runs(dag_id)
    if not runs:
        require_dag(store, dag_id)
    versions = store.version_numbers(dag_id)
    rows = [
        {
            "dag_id": r.dag_id,
            "run_id": r.run_id,
            "state": r.state,
            "run_type": r.run_type,
            "run_after": _iso(r.run_after),
            "logical_date": _iso(r.logical_date),
            "start_date": _iso(r.start_date),
            "end_date": _iso(r.end_date),
            "dag_version": versions.get(r.dag_hash),
        }
        for r in runs
    ]
    if output == "json":
        print_json(rows)
    else:
        for row in rows:
            for column in ("run_after", "logical_date", "start_date", "end_date"):
                row[column] = short_time(row[column])
        columns = ["run_id", "state", "run_type", "run_after", "logical_date", "start_date", "end_date", "dag_version"]
        print_table(rows, columns, empty="No runs.")


STATE_CHOICES = [str(s) for s in TaskInstanceState] + ["none"]


@click.command("states-for-dag-run")
@click.argument("dag_id", callback=checked_id)
@click.argument("run_id", callback=checked_id)
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(STATE_CHOICES),
    help="Only instances in this state (repeatable).",
)
@click.option("--task-id", default=None, callback=checked_id, help="Only the instances of this task.")
@click.option("--limit", type=click.IntRange(min=0), default=1000, show_default=True, help="Rows to show (0: all).")
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True, help="Rows to skip first.")
@output_option
def states_for_dag_run(
    dag_id: str, run_id: str, states: tuple[str, ...], task_id: str | None, limit: int, offset: int, output: str
) -> None:
    """The task instances of one run, by task and map index, a page at a time."""
    wanted = [None if s == "none" else s for s in states] or None
    store = gateway()
    require_run(store, dag_id, run_id)
    try:
        rows, total = store.task_states_page(
            dag_id, run_id, states=wanted, task_id=task_id, limit=limit or None, offset=offset
        )
    except TradewindError as exc:
        fail(str(exc))
    if offset + len(rows) < total:
        click.echo(
            f"Showing {offset + 1}-{offset + len(rows)} of {total} instances; more with --offset {offset + len(rows)}",
            err=True,
        )
    if output == "json":
        print_json(rows)
    else:
        for row in rows:
            row["error"] = first_line(row["error"])
            row["start_date"], row["end_date"] = short_time(row["start_date"]), short_time(row["end_date"])
        print_table(
            rows,
            ["task_id", "map_index", "state", "try_number", "start_date", "end_date", "duration", "label", "error"],
            empty=f"No task instances for run {run_id} of {dag_id}.",
        )
