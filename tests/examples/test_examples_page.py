"""docs/airflow-examples.md is what ``python scripts/airflow_examples.py --write`` gives today:
every example DAG of Airflow 3.3.2, whether tradewind imports and runs it, and whether the run
gives the task instances, states and return values Airflow gave."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from test_airflow_examples import wheel

ROOT = Path(__file__).parents[2]


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("airflow_examples", ROOT / "scripts" / "airflow_examples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_examples_page_is_current() -> None:
    wheel("apache_airflow_core-3.")  # skips (fails in CI) without the wheel
    examples = script()

    found = list(examples.rows())

    assert (ROOT / "docs" / "airflow-examples.md").read_text(encoding="utf-8") == examples.page(found), (
        "docs/airflow-examples.md is out of date: run python scripts/airflow_examples.py --write"
    )
    by_dag = {row.dag_id: row for row in found}
    assert by_dag["example_complex"].matches == "yes"  # the comparison does compare
    assert by_dag["example_failed_dag"].run == "failed"
