"""examples/dag_factory: client pipelines configured in YAML, loaded by dag-factory's loader file
unchanged, listed and run (in process with ``dags test``; through the CLI and a real backfill,
whose workers import the loader file again, in the slow tests)."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tradewind.loader import load_dags
from tradewind.scheduler.dag_test import test_dag as run_dag

EXAMPLES = Path(__file__).parents[2] / "examples" / "dag_factory"


@pytest.fixture(scope="module")
def bag() -> Any:
    return load_dags(EXAMPLES)


def run(bag: Any, dag_id: str) -> tuple[str, dict[tuple[str, int], tuple[str, Any]]]:
    state = run_dag(bag.get_dag(dag_id), io.StringIO(), logical_date=datetime(2025, 7, 2))
    return str(state.dag_run_state()), {
        (r.task_id, r.map_index): (str(r.state), r.return_value) for r in state.records()
    }


def test_every_client_pipeline_loads_with_the_shared_defaults(bag: Any) -> None:
    assert bag.import_errors == {}
    assert sorted(bag.dags) == ["acme_orders", "globex_invoices", "initech_quality"]
    acme = bag.get_dag("acme_orders")
    # a DAG's own tags replace those of defaults.yml, as in dag-factory; "dagfactory" is always added
    assert acme.tags == ["acme", "dagfactory"] and acme.timetable.summary == "0 2 * * *"
    assert acme.task_dict["extract"].owner == "data-platform" and acme.task_dict["extract"].retries == 1
    assert bag.get_dag("initech_quality").task_dict["notify"].retries == 0  # the DAG's own default_args win


def test_acme_renders_templates(bag: Any) -> None:
    assert run(bag, "acme_orders") == (
        "success",
        {
            ("extract", -1): ("success", "extracted orders for 2025-07-02"),
            ("transform", -1): ("success", "transformed emea"),
            ("load", -1): ("success", "loaded"),
        },
    )


def test_globex_maps_over_the_files_its_upstream_task_found(bag: Any) -> None:
    state, tis = run(bag, "globex_invoices")
    assert state == "success"
    assert tis[("list_files", -1)][1] == ["globex/invoice-1.csv", "globex/invoice-2.csv", "globex/invoice-3.csv"]
    assert [tis[("total", i)] for i in range(3)] == [("success", 100), ("success", 200), ("success", 300)]
    assert tis[("summary", -1)] == ("success", {"invoices": 3, "amount": 600})


def test_initech_groups_its_checks_and_maps_over_literal_kwargs(bag: Any) -> None:
    state, tis = run(bag, "initech_quality")
    assert state == "success"
    assert tis[("staging.check_orders", -1)] == ("success", "orders: at least 10 rows")
    assert [tis[("warehouse.check_facts", i)][1] for i in range(2)] == [
        "fact_sales: at least 100 rows",
        "fact_returns: at least 5 rows",
    ]
    assert tis[("notify", -1)] == ("success", None)


@pytest.mark.slow
def test_the_example_folder_lists_and_backfills_through_the_cli(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    folder = tmp_path / "dags"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("__pycache__"))
    listed = run_cli("dags", "list", "--dags-folder", folder, "--output", "json")
    assert listed.returncode == 0, listed.stderr
    assert [(row["dag_id"], row["file"]) for row in json.loads(listed.stdout)] == [
        ("acme_orders", "dag_factory_loader.py"),
        ("globex_invoices", "dag_factory_loader.py"),
        ("initech_quality", "dag_factory_loader.py"),
    ]
    errors = run_cli("dags", "list-import-errors", "--dags-folder", folder)
    assert errors.returncode == 0 and "No import errors." in errors.stdout
    done = run_cli(
        "dags", "backfill", "globex_invoices", "--start-date", "2025-01-01", "--end-date", "2025-01-02",
        "--dags-folder", folder,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Backfill of globex_invoices: 2 succeeded, 0 failed" in done.stdout
