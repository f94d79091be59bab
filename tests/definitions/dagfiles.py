"""Helpers for tests that write a small Airflow DAG file, import it as tradewind's loader does
(with the ``airflow`` alias) and run it with ``dags test``'s driver."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

from tradewind.definitions.dag import DAG
from tradewind.loader import load_dags
from tradewind.scheduler.dag_test import test_dag as run_dag
from tradewind.scheduler.run_state import RunState


def load(folder: Path, source: str, dag_id: str, name: str | None = None) -> DAG:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / (name or f"{dag_id}.py")).write_text(textwrap.dedent(source))
    bag = load_dags(folder)
    assert bag.import_errors == {}, {k: v.full for k, v in bag.import_errors.items()}
    return bag.get_dag(dag_id)


def import_error(folder: Path, source: str, name: str = "broken.py") -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(source))
    bag = load_dags(folder)
    [error] = bag.import_errors.values()
    return error.error


def run(dag: DAG, **kwargs: Any) -> tuple[str, dict[tuple[str, int], tuple[str | None, Any]], str, RunState]:
    """(run state, {(task_id, map_index): (state, return value)}, log, RunState)."""
    log = io.StringIO()
    state = run_dag(dag, log, **kwargs)
    results = {(r.task_id, r.map_index): (str(r.state) if r.state else None, r.return_value) for r in state.records()}
    return str(state.dag_run_state()), results, log.getvalue(), state


def states(results: dict[tuple[str, int], tuple[str | None, Any]]) -> dict[str, str | None]:
    """task_id -> state, for DAGs without mapped tasks."""
    return {task_id: value[0] for (task_id, _), value in results.items()}
