"""``tradewind`` entry point."""

from __future__ import annotations

import click

from tradewind import __version__
from tradewind.cli.dags import dags
from tradewind.cli.db import db
from tradewind.cli.orchestrator import (
    dag_processor_command,
    list_runs,
    pause,
    scheduler_command,
    standalone_command,
    states_for_dag_run,
    trigger,
    unpause,
)
from tradewind.cli.pools import pools
from tradewind.cli.runs import backfill, clear
from tradewind.cli.tasks import tasks


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tradewind")
def main() -> None:
    """tradewind: run Airflow-style DAGs, with dynamic DAGs and task mapping, fast and light."""


for command in (trigger, pause, unpause, list_runs, backfill):
    dags.add_command(command)
for command in (states_for_dag_run, clear):
    tasks.add_command(command)
main.add_command(dags)
main.add_command(tasks)
main.add_command(scheduler_command)
main.add_command(dag_processor_command)
main.add_command(standalone_command)
main.add_command(pools)
main.add_command(db)
