"""Airflow 3.3's own example DAGs about XCom, branching, params and templates give the task
instances, states and return values Airflow 3.3.2 gave for ``airflow dags test DAG_ID
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
AIRFLOW_3_RUNS: dict[str, tuple[str, dict[str, tuple[str, Any]]]] = {
    "example_xcom_args": (
        "success",
        {"generate_value": ("success", "Bring me a shrubbery!"), "print_value": ("success", None)},
    ),
    "example_xcom_args_with_operators": (
        "success",
        {
            "c": ("success", "c"),
            "d": ("success", "c"),
            "print_value": ("success", None),
            "print_value__1": ("success", None),
        },
    ),
    "example_nested_branch_dag": (
        "success",
        {
            "branch_1": ("success", None),  # a branch that skips stores no return value
            "true_1": ("success", None),
            "false_1": ("skipped", None),
            "join_1": ("success", None),
            "branch_2": ("skipped", None),
            "true_2": ("skipped", None),
            "false_2": ("skipped", None),
            "join_2": ("skipped", None),
            "false_3": ("skipped", None),
        },
    ),
    # test_mode is false under `dags test`, so run_this does not read the missing param 'foo';
    # also_run_this fails on {{ params.foo }} in Airflow too (undefined names fail)
    "example_passing_params_via_test_command": (
        "failed",
        {
            "run_this": ("success", 1),
            "env_var_test_task": ("success", None),
            "also_run_this": ("failed", None),
        },
    ),
    "tutorial_taskflow_templates": ("success", {"template_test": ("success", None)}),
}


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


@pytest.mark.parametrize("dag_id", sorted(AIRFLOW_3_RUNS))
def test_example_runs_as_in_airflow_3(examples: Path, dag_id: str) -> None:
    expected_state, expected = AIRFLOW_3_RUNS[dag_id]

    state, results, log = run(examples, dag_id)

    assert results == expected, log
    assert state == expected_state


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
