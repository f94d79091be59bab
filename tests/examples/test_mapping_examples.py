"""Every mapping form of docs/dynamic-task-mapping.md, run from examples/dags: the instances
(task_id, map_index), their states and their return values a user sees."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tradewind.loader import load_dags
from tradewind.scheduler.dag_test import test_dag as run_dag

EXAMPLES = Path(__file__).parents[2] / "examples" / "dags"


@pytest.fixture(scope="module")
def bag():
    return load_dags(EXAMPLES)


def run(bag, dag_id: str) -> tuple[str, dict[tuple[str, int], tuple[str, Any]], str]:
    log = io.StringIO()
    state = run_dag(bag.get_dag(dag_id), log, logical_date=datetime(2025, 7, 2))
    table = {(r.task_id, r.map_index): (str(r.state), r.return_value) for r in state.records()}
    return str(state.dag_run_state()), table, log.getvalue()


def test_examples_load_without_import_errors(bag) -> None:
    assert bag.import_errors == {}


def test_taskflow_expand_partial_product_and_reduce(bag) -> None:
    state, tis, log = run(bag, "mapping_taskflow")
    assert state == "success"
    assert [tis[("add_one", i)] for i in range(3)] == [("success", 2), ("success", 3), ("success", 4)]
    assert tis[("sum_added", -1)] == ("success", 9)
    assert "3 values, first 2" in log
    assert [tis[("multiply", i)][1] for i in range(3)] == [10, 20, 30]
    # cartesian product, last argument fastest (Airflow's order)
    assert [tis[("pair", i)][1] for i in range(6)] == ["a1", "a2", "a3", "b1", "b2", "b3"]


def test_classic_operators_partial_expand_and_output(bag) -> None:
    state, tis, _ = run(bag, "mapping_classic")
    assert state == "success"
    assert [tis[("echo", i)] for i in range(2)] == [("success", "one"), ("success", "two")]
    assert [tis[("upper", i)][1] for i in range(3)] == ["A", "B", "C"]
    assert [tis[("add_ten", i)][1] for i in range(2)] == [11, 12]
    assert tis[("report_echo", -1)] == ("success", "2 results: ['one', 'two']")
    assert tis[("report_add", -1)] == ("success", "2 results: [11, 12]")


def test_expand_kwargs_literal_upstream_and_classic(bag) -> None:
    state, tis, _ = run(bag, "mapping_expand_kwargs")
    assert state == "success"
    assert [tis[("copy_literal", i)][1] for i in range(2)] == ["s3://x -> db.x", "s3://y -> db.y"]
    assert [tis[("copy_from_upstream", i)][1] for i in range(2)] == ["s3://a -> db.a", "s3://b -> db.b"]
    assert [tis[("run_commands", i)][1] for i in range(2)] == ["first", "second"]


def test_map_zip_and_concat(bag) -> None:
    state, tis, _ = run(bag, "mapping_transforms")
    assert state == "success"
    assert [tis[("greet", i)][1] for i in range(3)] == ["hello ann", "hello bob", "hello cy"]
    assert [tis[("zipped", i)][1] for i in range(2)] == ["('ann', 31)", "('bob', 42)"]
    assert ("zipped", 2) not in tis
    assert tis[("zipped_longest", 2)][1] == "('cy', None)"
    assert [tis[("chained", i)][1] for i in range(5)] == ["ann", "bob", "cy", "31", "42"]


def test_sources_tuple_dict_upstream_dict_and_second_order(bag) -> None:
    state, tis, _ = run(bag, "mapping_sources")
    assert state == "success"
    assert [tis[("from_tuple", i)][1] for i in range(2)] == ["a", "b"]
    assert [tis[("from_dict", i)][1] for i in range(2)] == [("k", "v"), ("n", 1)]
    assert [tis[("from_upstream_dict", i)][1] for i in range(2)] == [("retries", 3), ("timeout", 60)]
    # keep_even returned None for 1 and 3: those drop out of the second-order mapping
    assert [tis[("keep_even", i)][1] for i in range(4)] == [None, 2, None, 4]
    assert {k: v for k, v in tis.items() if k[0] == "halve"} == {
        ("halve", 0): ("success", 1),
        ("halve", 1): ("success", 2),
    }


def test_mapped_task_group(bag) -> None:
    state, tis, _ = run(bag, "mapping_task_group")
    assert state == "success"
    assert [tis[("per_file.convert", i)][1] for i in range(3)] == ["a.yaml", "b.yaml", "c.yaml"]
    assert [tis[("per_file.stamp", i)][1] for i in range(3)] == ["a.yaml!", "b.yaml!", "c.yaml!"]
    assert tis[("collect", -1)] == ("success", ["a.yaml!", "b.yaml!", "c.yaml!"])


def test_map_index_template_labels(bag) -> None:
    log = io.StringIO()
    state = run_dag(bag.get_dag("mapping_controls"), log)
    labels = [(r.map_index, r.label, r.return_value) for r in state.records()]
    assert labels == [
        (0, "Oslo", "sunny in oslo"),
        (1, "Lima", "sunny in lima"),
        (2, "Pune", "sunny in pune"),
        (3, "Kyiv", "sunny in kyiv"),
    ]
