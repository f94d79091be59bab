"""Rendering the UI's pages: one Jinja2 environment with autoescaping on, and the small filters
the templates use (dates, durations, counts, links built from ids).

Every id, label, log line and conf value reaches the page through Jinja2's autoescaping (or
``textContent`` in the page's scripts); links quote every id they carry.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# the states, in the order the UI lists them, and their colours (Airflow's palette)
STATE_ORDER = (
    "failed",
    "upstream_failed",
    "up_for_retry",
    "running",
    "queued",
    "scheduled",
    "success",
    "skipped",
    "removed",
    None,
)
ACTIVE_RUN_STATES = frozenset({"queued", "running"})


def link(path: str, **query: Any) -> str:
    """``path`` with ``query`` (None values left out) as a quoted query string."""
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        for one in value if isinstance(value, (list, tuple)) else [value]:
            if one is not None and one != "":
                pairs.append((key, str(one)))
    return f"{path}?{urlencode(pairs)}" if pairs else path


def fmt_date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def fmt_count(value: int) -> str:
    return f"{value:,}"


def state_name(state: str | None) -> str:
    return state or "none"


def first_line(text: str | None, limit: int = 160) -> str:
    found = ((text or "").strip().splitlines() or [""])[0]
    return found if len(found) <= limit else found[: limit - 1] + "…"


def pretty_json(value: Any, limit: int = 100_000) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=repr, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit:,} more characters)"


def segments(cell: Any, width: int, least: int = 3) -> list[tuple[str | None, int, int]]:
    """(state, x, width) of a bar ``width`` wide split by a cell's counts per state; a state with
    any instance gets at least ``least`` pixels, so 3 failed among 10,000 still show."""
    present = [(s, cell.counts[s]) for s in STATE_ORDER if cell.counts.get(s)]
    total = sum(n for _, n in present)
    if not total:
        return []
    widths = [max(least, round(width * n / total)) for _, n in present]
    while sum(widths) > width and max(widths) > least:  # give back what the minimums took
        widths[widths.index(max(widths))] -= 1
    found, x = [], 0
    for (state, _), w in zip(present, widths):
        found.append((state, x, w))
        x += w
    return found


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        date=fmt_date,
        duration=fmt_duration,
        count=fmt_count,
        state=state_name,
        first_line=first_line,
        pretty_json=pretty_json,
        segments=segments,
    )
    env.globals.update(link=link, STATE_ORDER=STATE_ORDER)
    return env
