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
    cells = [["" if row.get(c) is None else str(row.get(c)) for c in columns] for row in rows]
    if len(rows) > PLAIN_ABOVE:
        _print_plain(columns, cells, title)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column)
    for line in cells:
        table.add_row(*line)
    Console(file=sys.stdout, width=max(100, _terminal_width())).print(table)


PLAIN_ABOVE = 500  # rows; a rich table costs ~0.3 ms a row, plain columns almost nothing


def _print_plain(columns: Sequence[str], cells: list[list[str]], title: str | None) -> None:
    """Long listings (10,000 DAGs): aligned columns without box drawing."""
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    out = [title] if title else []
    out.append("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    out.append("  ".join("-" * w for w in widths))
    out.extend("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in cells)
    sys.stdout.write("\n".join(out) + "\n")


def _terminal_width() -> int:
    return shutil.get_terminal_size((120, 24)).columns


def fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)
