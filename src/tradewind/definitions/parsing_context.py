"""Airflow's ``get_parsing_context()``: which DAG and task the process importing a DAG file is
about to run, so that a factory making thousands of DAGs can build only the one needed.

Outside a worker (the DAG processor, ``dags list``, ``dags test``) both fields are None and a
factory must build every DAG. A worker sets them around its import of a DAG file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple


class ParsingContext(NamedTuple):
    dag_id: str | None
    task_id: str | None


_current = ParsingContext(None, None)
_read = False  # whether a DAG file asked, during the current import


def get_parsing_context() -> ParsingContext:
    global _read
    _read = True
    return _current


@contextmanager
def parsing_context(dag_id: str | None, task_id: str | None) -> Iterator[list[bool]]:
    """Set the context for an import; the yielded list holds, afterwards, whether the file read
    it (then what it defined may depend on the DAG asked for)."""
    global _current, _read
    previous, previous_read = _current, _read
    _current, _read = ParsingContext(dag_id, task_id), False
    asked: list[bool] = []
    try:
        yield asked
    finally:
        asked.append(_read)
        _current, _read = previous, previous_read
