"""``tradewind tasks ...``: run one task."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tradewind.cli.common import checked_id, dags_folder_option, load_dag, parse_logical_date
from tradewind.cli.output import fail, output_option, print_json
from tradewind.definitions.states import TaskInstanceState
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
