"""``tradewind`` entry point."""

from __future__ import annotations

import os
from typing import Any

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

DEBUG_VARIABLE = "TRADEWIND_DEBUG"


class GuardedGroup(click.Group):
    """The root group: an exception no command turned into a message becomes one line and
    exit code 1, not a traceback (set TRADEWIND_DEBUG=1 to see the traceback).

    Click's own errors (usage errors, exit 2; aborts) and SystemExit pass through unchanged."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("Error: interrupted", err=True)
            raise SystemExit(130) from None
        except Exception as exc:
            if os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
                raise
            message = " ".join(str(exc).split()) or "(no message)"
            click.echo(
                f"Error: {type(exc).__name__}: {message} (rerun with {DEBUG_VARIABLE}=1 to see the traceback)",
                err=True,
            )
            raise SystemExit(1) from None


@click.group(cls=GuardedGroup, context_settings={"help_option_names": ["-h", "--help"]})
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

from tradewind.cli.info import info  # noqa: E402  (the operator's commands, issue 12)

main.add_command(info)

from tradewind.cli.server import api_server  # noqa: E402  (the API server and users, issue 12)
from tradewind.cli.users import users  # noqa: E402

main.add_command(api_server)
main.add_command(users)

# Variables and Connections (issue 9)
from tradewind.cli.connections import connections  # noqa: E402
from tradewind.cli.variables import variables  # noqa: E402

main.add_command(variables)
main.add_command(connections)

# Assets: data-aware scheduling (issue 9, docs/adr/0012)
from tradewind.cli.assets import assets  # noqa: E402

main.add_command(assets)
