"""``tradewind`` entry point."""

from __future__ import annotations

import click

from tradewind import __version__
from tradewind.cli.dags import dags
from tradewind.cli.tasks import tasks


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tradewind")
def main() -> None:
    """tradewind: run Airflow-style DAGs, with dynamic DAGs and task mapping, fast and light."""


main.add_command(dags)
main.add_command(tasks)
