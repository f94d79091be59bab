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
    type=click.Choice(["table", "plain", "json"]),
    default="table",
    show_default=True,
    help="Print a table for people, plain aligned columns (every value on one line, for copying and grep) "
    "or JSON for programs.",
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
    if len(rows) > PLAIN_ABOVE or _asked_for_plain():
        _print_plain(columns, cells, title)
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    width = max(100, _terminal_width())
    console = Console(file=sys.stdout, width=width)

    widest = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    keep = [column.endswith("_id") and w <= ID_MIN_WIDTH for column, w in zip(columns, widest, strict=True)]
    needed = sum(w + 2 if k else min(w, OTHER_MIN_WIDTH) + 2 for w, k in zip(widest, keep, strict=True))
    if needed + len(columns) + 1 > width:
        keep = [False] * len(columns)  # the ids cannot keep their width here: they wrap too
    table = Table(title=Text(title) if title else None, show_lines=False)
    for column, kept in zip(columns, keep, strict=True):
        # ids stay on one line while the other columns wrap; a value that does not fit wraps,
        # it is never cut
        table.add_column(Text(column), overflow="fold", no_wrap=kept)
    for line in cells:
        table.add_row(*(Text(value) for value in line))  # as written: "[bold]" in an id is no markup
    console.print(table)


ID_MIN_WIDTH = 60  # characters an id column keeps before it wraps
OTHER_MIN_WIDTH = 8  # characters the other columns keep at least when ids keep theirs
PLAIN_ABOVE = 500  # rows; a rich table costs ~0.3 ms a row, plain columns almost nothing


def _asked_for_plain() -> bool:
    """Whether the running command was given ``-o plain``."""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.params.get("output") == "plain"


def _print_plain(columns: Sequence[str], cells: list[list[str]], title: str | None) -> None:
    """``-o plain`` and long listings (10,000 DAGs): aligned columns without box drawing, each
    row on one line, whatever the terminal's width."""
    cells = [[" ".join(value.splitlines()) for value in line] for line in cells]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    out = [title] if title else []
    out.append("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    out.append("  ".join("-" * w for w in widths))
    out.extend("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in cells)
    sys.stdout.write("\n".join(out) + "\n")


def _terminal_width() -> int:
    return shutil.get_terminal_size((120, 24)).columns


def short_time(value: str | None) -> str | None:
    """An ISO timestamp in UTC to the second, for a table (``2025-07-01T08:00:00.25+02:00``
    becomes ``2025-07-01 06:00:00``); JSON keeps it whole."""
    if not value:
        return value
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat(sep=" ")


def first_line(text: str | None) -> str | None:
    """The first non-blank line of an error, for a table cell or a summary (JSON keeps it whole)."""
    if text is None:
        return None
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


SUMMARY_ROWS = 20  # failed instances named in a summary; the rest are counted


def print_failures(rows: Sequence[dict[str, Any]], more: str, total: int | None = None, heading: str = "") -> None:
    """What failed, one instance a line: ``task[map index]  (label)  first line of the error``.

    ``rows`` are the failed instances (task_id, map_index, label, error), the first of ``total``;
    ``more`` says where to see them all when there are more than SUMMARY_ROWS."""
    total = len(rows) if total is None else total
    if not total:
        return
    click.echo(f"{heading}{total} task instance(s) failed:")
    for row in rows[:SUMMARY_ROWS]:
        index = f"[{row['map_index']}]" if row.get("map_index", -1) >= 0 else ""
        label = f"  ({row['label']})" if row.get("label") else ""
        click.echo(f"  {row['task_id']}{index}{label}  {first_line(row.get('error')) or '(no error recorded)'}")
    if total > SUMMARY_ROWS:
        click.echo(f"  ... and {total - SUMMARY_ROWS} more: {more}")


def fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)
