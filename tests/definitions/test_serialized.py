"""A DAG's stored form: plain JSON, one hash per structure, and read back with what the
scheduler needs (no callables)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from tradewind import DAG, task, task_group
from tradewind.definitions.operators.empty import EmptyOperator
from tradewind.definitions.params import Param
from tradewind.definitions.serialized import SerializedDAG, dag_hash, serialize_dag
from tradewind.definitions.states import TriggerRule
from tradewind.errors import DagDefinitionError
from tradewind.runtime.inputs import InputsSource


def mapping_dag(extra_task: bool = False) -> DAG:
    with DAG(
        "s",
        start_date=datetime(2025, 1, 1),
        schedule="@daily",
        tags=["t"],
        params={"limit": Param(5, type="integer"), "name": "x"},
        max_active_tasks=7,
    ) as dag:

        @task(retries=2, retry_delay=timedelta(seconds=3), pool="p", max_active_tis_per_dagrun=4)
        def a():
            return [1, 2, 3]

        @task
        def b(x, y):
            return x

        numbers = a()

        @task_group
        def g(x):
            return b(x, y=numbers)

        @task(trigger_rule="all_done")
        def total(values):
            return sum(values)

        mapped = b.override(task_id="mapped").expand(x=numbers.map(lambda v: v * 2), y=["p", "q"])
        total(mapped)
        g.expand(x=[10, 20])
        if extra_task:
            EmptyOperator(task_id="later")
    return dag


def test_serialized_dag_is_plain_json_with_tasks_in_dependency_order() -> None:
    data = json.loads(json.dumps(serialize_dag(mapping_dag())))
    assert data["schedule"] == "@daily" and data["tags"] == ["t"]
    tasks = {t["task_id"]: t for t in data["tasks"]}
    order = [t["task_id"] for t in data["tasks"]]
    assert order.index("a") < order.index("mapped") < order.index("total")
    assert tasks["a"]["retries"] == 2 and tasks["a"]["retry_delay"] == 3.0 and tasks["a"]["pool"] == "p"
    assert tasks["mapped"]["is_mapped"] and tasks["g.b"]["group"] == "g"
    assert tasks["total"]["trigger_rule"] == "all_done"
    assert data["params"]["limit"] == {"param": True, "default": 5, "description": None, "schema": {"type": "integer"}}


def test_the_same_structure_has_the_same_hash_and_a_change_another() -> None:
    assert dag_hash(serialize_dag(mapping_dag())) == dag_hash(serialize_dag(mapping_dag()))
    assert dag_hash(serialize_dag(mapping_dag())) != dag_hash(serialize_dag(mapping_dag(extra_task=True)))


def test_read_back_it_has_what_the_scheduler_needs() -> None:
    dag = SerializedDAG.from_dag(mapping_dag())
    assert dag.timetable.periodic and dag.start_date == datetime(2025, 1, 1).astimezone()
    assert dag.max_active_tasks == 7 and dag.params["name"] == "x"
    a, mapped, total, grouped = (dag.task_dict[t] for t in ("a", "mapped", "total", "g.b"))
    assert (a.retries, a.retry_delay, a.pool, a.max_active_tis_per_dagrun) == (2, timedelta(seconds=3), "p", 4)
    assert a.downstream_task_ids >= {"mapped", "g.b"}
    assert total.trigger_rule is TriggerRule.ALL_DONE
    assert mapped.is_mapped and mapped.expands_at_run_time
    assert grouped.mapped_group is not None and grouped.mapped_group.group_id == "g"
    assert grouped.whole_inputs == {("a", "return_value")}  # passed whole, not mapped over
    # lengths come from upstream outputs and literal lengths alone: 3 (the .map keeps it) x 2
    source = InputsSource({("a", "return_value"): [1, 2, 3]}, "mapped")
    assert mapped.expand_input is not None and mapped.expand_input.total_length(source, "mapped") == 6
    assert grouped.mapped_group.expand_input.total_length(source, "g.b") == 2


def test_a_literal_that_is_not_json_keeps_its_length() -> None:
    with DAG("objects", start_date=datetime(2025, 1, 1)) as dag:

        @task
        def show(x):
            return str(x)

        show.expand(x=[object(), object(), object()])
    read = SerializedDAG.from_dag(dag).task_dict["show"]
    assert read.expand_input is not None
    assert read.expand_input.total_length(InputsSource({}, "show"), "show") == 3


def test_a_param_that_is_not_json_is_a_clear_error() -> None:
    with DAG("bad_params", params={"when": object()}) as dag:
        EmptyOperator(task_id="t")
    with pytest.raises(DagDefinitionError, match="DAG 'bad_params' cannot be stored"):
        serialize_dag(dag)
