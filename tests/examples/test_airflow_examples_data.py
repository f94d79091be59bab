"""Airflow 3.3's own example DAGs about XCom, branching, params and templates: what they print, beyond
the task instances, states and return values Airflow 3.3.2 gave for ``airflow dags test DAG_ID
2026-11-29`` (observed with a real Airflow 3.3.2). Read from Airflow's wheel, as
test_airflow_examples.py does."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_airflow_examples import wheel

from tradewind.loader import load_dags
from tradewind.scheduler.dag_test import test_dag as run_dag

LOGICAL_DATE = datetime(2026, 11, 29, tzinfo=UTC)
FILES = [
    "example_xcomargs.py",
    "example_nested_branch_dag.py",
    "example_passing_params_via_test_command.py",
    "tutorial_taskflow_templates.py",
    "sql/tutorial_taskflow_template.sql",
]


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = wheel("apache_airflow_core-3.")
    folder = tmp_path_factory.mktemp("airflow3-data-examples")
    (folder / "sql").mkdir()
    with zipfile.ZipFile(path) as archive:
        for name in FILES:
            (folder / name).write_bytes(archive.read(f"airflow/example_dags/{name}"))
    return folder


def run(examples: Path, dag_id: str) -> tuple[str, dict[str, tuple[str, Any]], str]:
    bag = load_dags(examples)
    assert bag.import_errors == {}
    log = io.StringIO()
    state = run_dag(bag.get_dag(dag_id), log, logical_date=LOGICAL_DATE)
    results = {r.task_id: (str(r.state), r.return_value) for r in state.records()}
    return str(state.dag_run_state()), results, log.getvalue()


def test_undefined_param_fails_with_jinjas_message(examples: Path) -> None:
    _, _, log = run(examples, "example_passing_params_via_test_command")
    assert "'dict object' has no attribute 'foo'" in log


def test_taskflow_templates_render_the_sql_file_the_task_params_and_render_template(examples: Path) -> None:
    _, _, log = run(examples, "tutorial_taskflow_templates")
    lines = [line.split(" - ", 1)[-1] for line in log.splitlines()]

    run_id = "manual__" + next(line for line in lines if line.startswith("test_var: manual__"))[18:]
    assert "    and run_id = '" + run_id + "'" in lines
    assert "    and something_else = 'param_from_task'" in lines  # the task's params override the DAG's
    assert "data_interval_end: 2026-11-29 00:00:00+00:00" in lines
    assert f"rendered template: run_id: {run_id}; params.other_param: from_dag" in lines
