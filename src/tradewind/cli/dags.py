"""``tradewind dags ...``: list, show and test DAGs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from tradewind.cli.common import checked_id, dags_folder_option, load_bag, load_dag, parse_conf, parse_logical_date
from tradewind.cli.output import fail, output_option, print_failures, print_json, print_table
from tradewind.config import conf
from tradewind.definitions.dag import DAG
from tradewind.definitions.states import DagRunState
from tradewind.scheduler.run_state import RunState


@click.group()
def dags() -> None:
    """Inspect and run DAGs."""


def _relative(path: str | None, folder: Path) -> str:
    if not path:
        return ""
    try:
        return str(Path(path).resolve().relative_to(folder.resolve()))
    except ValueError:
        return path


def _under(path: str, folder: Path) -> bool:
    root = str(folder)
    return path == root or path.startswith(root.rstrip("/") + "/")


def _stored(dags_folder: Path | None) -> tuple[Any, Path, list[Any], list[Any]]:
    """The store brought up to date with the folder, and its active DAGs and import errors
    under that folder."""
    from tradewind.cli.orchestrator import refreshed_gateway
    from tradewind.store import dag_versions as dv
    from tradewind.store import queries as q
    from tradewind.store.engine import session_scope

    folder = Path(os.path.abspath(dags_folder or conf.dags_folder()))
    if not folder.exists():
        fail(f"DAGs folder {folder} does not exist (set --dags-folder or TRADEWIND__CORE__DAGS_FOLDER)")
    store = refreshed_gateway(folder)
    with session_scope(store.engine) as session:
        rows = [r for r in dv.active_dags(session) if _under(r.fileloc, folder)]
        errors = [e for e in q.list_import_errors(session) if _under(e.filename, folder)]
        session.expunge_all()
    return store, folder, rows, errors


def _paused_ids(store: Any) -> set[str]:
    from sqlalchemy import select

    from tradewind.store.engine import session_scope
    from tradewind.store.models import DagModel

    with session_scope(store.engine) as session:
        return set(session.scalars(select(DagModel.dag_id).where(DagModel.is_paused)))


@dags.command("list")
@dags_folder_option
@output_option
def list_dags(dags_folder: Path | None, output: str) -> None:
    """List the DAGs in the DAGs folder (as the DAG processor stored them: a file that did not
    change since it was last imported is not imported again)."""
    store, folder, stored, errors = _stored(dags_folder)
    files = {path: _relative(path, folder) for path in {row.fileloc for row in stored}}
    kinds = _timetables(store)
    paused = _paused_ids(store)
    rows = [
        {"dag_id": row.dag_id, "file": files[row.fileloc], "schedule": row.schedule, "tags": row.tags} for row in stored
    ]
    for row in rows:
        row["timetable"], row["timetable_chosen_by"] = kinds.get(row["dag_id"], ("", ""))
        row["is_paused"] = row["dag_id"] in paused
    if output == "json":
        print_json(rows)
    else:
        for row in rows:
            row["tags"] = ", ".join(row["tags"])
        print_table(rows, ["dag_id", "file", "schedule", "timetable", "tags", "is_paused"], empty="No DAGs found.")
    if errors:
        click.echo(f"{len(errors)} file(s) failed to import; see `tradewind dags list-import-errors`", err=True)


def _timetables(store: Any) -> dict[str, tuple[str, str]]:
    """dag_id -> (timetable class, how a cron string or timedelta got its meaning)."""
    from tradewind.definitions.timetables.serialization import type_name
    from tradewind.store import dag_versions as dv
    from tradewind.store.engine import session_scope

    with session_scope(store.engine) as session:
        found = dv.timetables(session)
    return {dag_id: (type_name(kind, name), why or "") for dag_id, (kind, name, why) in found.items()}


@dags.command("list-import-errors")
@dags_folder_option
@output_option
def list_import_errors(dags_folder: Path | None, output: str) -> None:
    """List DAG files that failed to import, with the error and its line. Exit 1 if there are any."""
    _, folder, _, errors = _stored(dags_folder)
    if output == "json":
        print_json([{"filename": e.filename, "error": e.error} for e in errors])
    else:
        print_table(
            [{"filename": _relative(e.filename, folder), "error": e.error.splitlines()[0]} for e in errors],
            ["filename", "error"],
            empty="No import errors.",
        )
    if errors:
        raise SystemExit(1)


@dags.command("report")
@dags_folder_option
@output_option
def report(dags_folder: Path | None, output: str) -> None:
    """How long each DAG file took to import, slowest first, with its DAGs and tasks."""
    bag = load_bag(dags_folder)
    per_file: dict[str, list[DAG]] = {}
    for dag in bag.dags.values():
        per_file.setdefault(str(dag.fileloc), []).append(dag)
    rows = [
        {
            "file": _relative(path, bag.folder),
            "duration": round(seconds, 4),
            "dag_num": len(per_file.get(path, [])),
            "task_num": sum(len(d.task_dict) for d in per_file.get(path, [])),
            "dags": ", ".join(sorted(d.dag_id for d in per_file.get(path, []))),
            "import_error": path in bag.import_errors,
        }
        for path, seconds in sorted(bag.parse_seconds.items(), key=lambda item: -item[1])
    ]
    if output == "json":
        print_json(rows)
    else:
        print_table(rows, ["file", "duration", "dag_num", "task_num", "dags", "import_error"], empty="No DAG files.")


def _task_kind(task: Any) -> str:
    return f"{task.operator_name}, mapped" if task.is_mapped else task.operator_name


@dags.command("show")
@click.argument("dag_id", callback=checked_id)
@dags_folder_option
@click.option("--format", "fmt", type=click.Choice(["text", "dot"]), default="text", show_default=True)
def show(dag_id: str, dags_folder: Path | None, fmt: str) -> None:
    """Show a DAG's tasks and dependencies as text or Graphviz dot (from its stored version)."""
    from tradewind.cli.orchestrator import stored_dag

    _, dag = stored_dag(dag_id, dags_folder)
    ordered = dag.topological_sort()
    if fmt == "dot":
        click.echo(f'digraph "{dag.dag_id}" {{\n  rankdir=LR;')
        for task in ordered:
            shape = ", peripheries=2" if task.is_mapped else ""
            click.echo(f'  "{task.task_id}" [shape=box{shape}];')
        for task in ordered:
            for down in sorted(task.downstream_task_ids):
                label = dag.edge_labels.get((task.task_id, down))
                shown = f" [label={json.dumps(label)}]" if label else ""
                click.echo(f'  "{task.task_id}" -> "{down}"{shown};')
        click.echo("}")
        return
    click.echo(f"DAG {dag.dag_id}  (schedule: {dag.schedule})")
    click.echo(f"Timetable: {_describe_timetable(dag.timetable)}")
    if not getattr(dag, "logical_date_on_trigger", True):
        click.echo("Manual runs: without --logical-date, no logical date (an Airflow 3 file, as in Airflow 3)")
    click.echo("Tasks:")
    for task in ordered:
        click.echo(f"  {task.task_id}  [{_task_kind(task)}]")
    click.echo("Dependencies:")
    edges = [(t.task_id, d) for t in ordered for d in sorted(t.downstream_task_ids)]
    for up, down in edges:
        label = dag.edge_labels.get((up, down))
        click.echo(f"  {up} >> {down}" + (f"  [{label}]" if label else ""))
    if not edges:
        click.echo("  (none)")


def _describe_timetable(timetable: Any) -> str:
    why = f"; chosen by: {timetable.chosen_by}" if timetable.chosen_by else ""
    return f"{timetable.type_name}{why}"


def instance_rows(state: RunState) -> list[dict[str, Any]]:
    return [
        {
            "task_id": r.task_id,
            "map_index": r.map_index,
            "state": str(r.state) if r.state else None,
            "try_number": r.try_number,
            "duration": round(r.duration, 6) if r.duration is not None else None,
            "return_value": r.return_value,
            "label": r.label,
            "error": f"{r.error.type}: {r.error.message}" if r.error else None,
        }
        for r in state.records()
    ]


@dags.command("test")
@click.argument("dag_id", callback=checked_id)
@click.argument("logical_date", required=False)
@dags_folder_option
@click.option("--conf", "-c", help="JSON object passed as the run's conf (overrides params).")
@click.option("--no-retry-delay", is_flag=True, help="Retry failed tasks at once instead of waiting retry_delay.")
@output_option
def test(
    dag_id: str, logical_date: str | None, dags_folder: Path | None, conf: str | None, no_retry_delay: bool, output: str
) -> None:
    """Run one whole DAG run in this process and print every task's log.

    Exit code 0 when the run succeeds, 1 when it fails.
    """
    from tradewind.config import conf as config
    from tradewind.scheduler.dag_test import test_dag

    dag = load_dag(dag_id, dags_folder)
    for warning in dag.import_warnings.messages():
        click.echo(f"Warning: DAG '{dag.dag_id}': {warning}", err=True)
    log = sys.stderr if output == "json" else sys.stdout
    state = test_dag(
        dag,
        log,
        logical_date=parse_logical_date(logical_date),
        conf=parse_conf(conf),
        no_retry_delay=no_retry_delay,
        max_map_length=config.getint("core", "max_map_length"),
    )
    run_state = state.dag_run_state()
    rows = instance_rows(state)
    if output == "json":
        print_json(
            {
                "dag_id": dag.dag_id,
                "run_id": state.context.run_id,
                "logical_date": state.context.logical_date.isoformat() if state.context.logical_date else None,
                "state": str(run_state),
                "task_instances": rows,
            }
        )
    else:
        for row in rows:
            row["return_value"] = _short(row["return_value"])
        print_table(rows, ["task_id", "map_index", "state", "try_number", "duration", "return_value", "label"])
        print_failures([r for r in rows if r["state"] == "failed"], more="rerun with -o json to see every instance")
        click.echo(f"DAG run {state.context.run_id} of {dag.dag_id}: {run_state}")
    raise SystemExit(0 if run_state is DagRunState.SUCCESS else 1)


def _short(value: Any, limit: int = 60) -> str | None:
    if value is None:
        return None
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dags.command("next-execution")
@click.argument("dag_id", callback=checked_id)
@click.option("-n", "--num-executions", "count", type=click.IntRange(min=1), default=1, show_default=True)
@dags_folder_option
@click.option(
    "-o",
    "--output",
    type=click.Choice(["plain", "table", "json"]),
    default="plain",
    show_default=True,
    help="plain: one logical date a line (as Airflow prints them); table or json: with data intervals.",
)
def next_execution(dag_id: str, count: int, dags_folder: Path | None, output: str) -> None:
    """The next N runs the scheduler would create for a DAG: logical dates, data intervals and
    when each is created (from its stored version, after the last run the scheduler created)."""
    from tradewind.cli.orchestrator import stored_dag

    store, dag = stored_dag(dag_id, dags_folder)
    infos, paused = store.next_runs(dag, count)
    if paused:
        click.echo("This DAG is paused: the scheduler creates none of these until it is unpaused.", err=True)
    rows = [
        {
            "logical_date": info.logical_date.isoformat(),
            "data_interval_start": info.data_interval.start.isoformat(),
            "data_interval_end": info.data_interval.end.isoformat(),
            "run_after": info.run_after.isoformat(),
        }
        for info in infos
    ]
    if len(rows) < count:
        click.echo(
            f"No {'further ' if rows else ''}scheduled run: the DAG's schedule is {dag.schedule} "
            f"({dag.timetable.type_name}){', ending ' + dag.end_date.isoformat() if dag.end_date else ''}.",
            err=True,
        )
    if output == "json":
        print_json(rows)
    elif output == "table":
        print_table(rows, ["logical_date", "data_interval_start", "data_interval_end", "run_after"], empty="")
    else:
        for row in rows:
            click.echo(row["logical_date"])


@dags.command("list-import-warnings")
@dags_folder_option
@output_option
def list_import_warnings(dags_folder: Path | None, output: str) -> None:
    """List what each DAG sets that tradewind accepts but does not act on (or acts on
    differently from Airflow), as the DAG processor stored it with the DAG's version."""
    from tradewind.store import dag_versions as dv
    from tradewind.store.engine import session_scope

    store, folder, rows, _ = _stored(dags_folder)
    files = {row.dag_id: _relative(row.fileloc, folder) for row in rows}
    with session_scope(store.engine) as session:
        versions = dv.latest_versions(session, list(files))
    found = [
        {"dag_id": dag_id, "file": files[dag_id], "warning": warning}
        for dag_id in sorted(files)
        for warning in versions.get(dag_id, ("", {}))[1].get("warnings", [])
    ]
    if output == "json":
        print_json(found)
    else:
        print_table(found, ["dag_id", "file", "warning"], empty="No import warnings.")
