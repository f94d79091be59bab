"""``.tradewindignore``: glob patterns, one per line, of files and folders the loader skips.

A pattern applies to the folder holding the ignore file and everything below it. A pattern
without a slash matches a file or folder name at any depth (``test_*.py``, ``scratch``); one with
a slash matches the path relative to that folder (``legacy/*.py``), where ``*`` stays inside one
folder and ``**`` crosses folders, as in ``.gitignore``. ``#`` starts a comment.
"""

from __future__ import annotations

import fnmatch
import re
from functools import cache
from pathlib import Path

IGNORE_FILE = ".tradewindignore"


def read_patterns(folder: Path) -> list[str]:
    path = folder / IGNORE_FILE
    if not path.is_file():
        return []
    patterns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            patterns.append(line.rstrip("/"))
    return patterns


@cache
def _path_regex(pattern: str) -> re.Pattern[str]:
    """A glob over a relative path: ``*`` and ``?`` stay inside one folder, ``**`` crosses folders."""
    parts = re.split(r"(\*\*/?|\*|\?)", pattern.strip("/"))
    regex = "".join(
        ".*" if part.startswith("**") else "[^/]*" if part == "*" else "[^/]" if part == "?" else re.escape(part)
        for part in parts
    )
    return re.compile(f"{regex}(/.*)?")


def is_ignored(relative: Path, patterns: list[str]) -> bool:
    posix = relative.as_posix()
    for pattern in patterns:
        if "/" in pattern:
            if _path_regex(pattern).fullmatch(posix):
                return True
        elif any(fnmatch.fnmatchcase(part, pattern) for part in relative.parts):
            return True
    return False


def iter_dag_files(folder: Path) -> list[Path]:
    """Every ``*.py`` under ``folder`` not excluded by an ignore file on its way, sorted."""
    found: list[Path] = []

    def walk(directory: Path, inherited: list[tuple[Path, list[str]]]) -> None:
        rules = [*inherited, (directory, read_patterns(directory))]
        for entry in sorted(directory.iterdir()):
            if entry.name.startswith(".") or entry.name == "__pycache__":
                continue
            if any(is_ignored(entry.relative_to(base), patterns) for base, patterns in rules if patterns):
                continue
            if entry.is_dir():
                walk(entry, rules)
            elif entry.suffix == ".py":
                found.append(entry)

    if folder.is_file():
        return [folder]
    walk(folder, [])
    return found
