"""Import errors that a DAG file reports against *other* files.

A DAG file that builds its DAGs from configuration (``load_yaml_dags`` reading YAML) knows that
one DAG's config is wrong while the others are fine: it builds the good DAGs and reports the
bad one here, naming the config file and line. The loader takes these reports after importing
the file (``take``) and records each as an import error on the named file, so a user sees the
mistake where it is, and only the broken DAG is missing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportedError:
    """An import error on ``filename`` (a file the DAG file read), for one DAG when ``dag_id``
    is set (that DAG keeps its previously stored version), else for the whole file."""

    filename: str
    error: str  # "ExcType: message (line N)"
    dag_id: str | None = None


_pending: list[ReportedError] = []


def report(filename: str, error: str, dag_id: str | None = None) -> None:
    _pending.append(ReportedError(str(filename), error, dag_id))


def take() -> list[ReportedError]:
    """Return and forget the reports made since the last call (the loader calls this per file)."""
    found = list(_pending)
    _pending.clear()
    return found


# Folders a DAG file *listed* while importing (a folder scan, a look for defaults.yml): a file
# added to or removed from one of them changes what the DAG file builds, so the DAG processor
# watches them as it watches the files the import read.
_watched: set[str] = set()


def watch_folder(path: str) -> None:
    _watched.add(str(path))


def take_watched() -> list[str]:
    found = sorted(_watched)
    _watched.clear()
    return found


# The DAGs folder being loaded (load_yaml_dags' default folder), set by whoever loads files.
_dags_root: list[str] = []


def set_dags_root(path: str | None) -> None:
    _dags_root[:] = [str(path)] if path else []


def dags_root() -> str | None:
    return _dags_root[0] if _dags_root else None
