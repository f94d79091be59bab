"""Airflow's own published example DAGs for dynamic task mapping run unchanged on tradewind and
give the task instances, states and results Airflow gives. The files are read from Airflow's
wheels, which scripts/test downloads into .cache/airflow-wheels (nothing of Airflow is committed
here or installed)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from tradewind.loader import load_dags
from tradewind.scheduler.dag_test import test_dag as run_dag

WHEELS = Path(__file__).parents[2] / ".cache" / "airflow-wheels"
EXAMPLES = [
    "example_dynamic_task_mapping.py",
    "example_dynamic_task_mapping_with_no_taskflow_operators.py",
    "example_task_group.py",
    "example_task_group_decorator.py",
]


def wheel(prefix: str) -> Path:
    found = sorted(WHEELS.glob(f"{prefix}*.whl"))
    if not found:
        message = f"{prefix} wheel not in {WHEELS}: run scripts/test, which downloads it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found[-1]


@pytest.fixture(params=["apache_airflow-2.", "apache_airflow_core-3."], scope="module")
def examples(request, tmp_path_factory) -> Path:
    path = wheel(request.param)
    folder = tmp_path_factory.mktemp(request.param)
    with zipfile.ZipFile(path) as archive:
        for name in EXAMPLES:
            (folder / name).write_bytes(archive.read(f"airflow/example_dags/{name}"))
    return folder


def run(folder: Path, dag_id: str):
    bag = load_dags(folder)
    assert bag.import_errors == {}
    log = io.StringIO()
    state = run_dag(bag.get_dag(dag_id), log)
    results = {(r.task_id, r.map_index): (str(r.state), r.return_value) for r in state.records()}
    return str(state.dag_run_state()), results, log.getvalue()


def test_taskflow_mapping_example(examples: Path) -> None:
    state, tis, log = run(examples, "example_dynamic_task_mapping")
    assert state == "success"
    assert tis == {
        ("add_one", 0): ("success", 2),
        ("add_one", 1): ("success", 3),
        ("add_one", 2): ("success", 4),
        ("sum_it", -1): ("success", None),
    }
    assert "Total was 9" in log


def test_classic_operator_mapping_example(examples: Path) -> None:
    state, tis, log = run(examples, "example_dynamic_task_mapping_with_no_taskflow_operators")
    assert state == "success"
    assert tis == {
        ("add_one", 0): ("success", 2),
        ("add_one", 1): ("success", 3),
        ("add_one", 2): ("success", 4),
        ("sum_it", -1): ("success", 9),
    }
    assert "Total was 9" in log


def test_second_order_mapping_example(examples: Path) -> None:
    if "airflow_core" not in examples.name:
        pytest.skip("Airflow 2.10's example file has no second-order DAG")
    state, tis, _ = run(examples, "example_task_mapping_second_order")
    assert state == "success"
    assert [tis[("times_2", i)] for i in range(3)] == [("success", 2), ("success", 4), ("success", 6)]
    assert [tis[("add_10", i)] for i in range(3)] == [("success", 12), ("success", 14), ("success", 16)]


def test_mapped_task_group_example(examples: Path) -> None:
    if "airflow_core" not in examples.name:
        pytest.skip("Airflow 2.10's example file has no mapped task group DAG")
    state, tis, _ = run(examples, "example_task_group_mapping")
    assert state == "success"
    assert [tis[("op.add_1", i)] for i in range(3)] == [("success", 2), ("success", 3), ("success", 4)]
    assert [tis[("op.mul_2", i)] for i in range(3)] == [("success", 4), ("success", 6), ("success", 8)]


@pytest.mark.parametrize("dag_id", ["example_task_group", "example_task_group_decorator"])
def test_task_group_examples_succeed(examples: Path, dag_id: str) -> None:
    state, tis, _ = run(examples, dag_id)
    assert state == "success"
    assert all(value[0] == "success" for value in tis.values())
