"""Printing listings as a table (rich, imported only when needed) or as JSON."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Sequence
from typing import Any

import click

output_option = click.option(
    "-o",
    "--output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Print a table for people or JSON for programs.",
)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def print_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None = None, empty: str = "Nothing to show."
) -> None:
    if not rows:
        click.echo(empty)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    Console(file=sys.stdout, width=max(100, _terminal_width())).print(table)


def _terminal_width() -> int:
    return shutil.get_terminal_size((120, 24)).columns


def fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)
