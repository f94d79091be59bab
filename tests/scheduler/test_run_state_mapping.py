"""The run state machine on mapped tasks, step by step: which instances become ready when."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

from tradewind import DAG, task, task_group
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.errors import MappingError
from tradewind.executors.inline import InlineExecutor
from tradewind.runtime.run_task import run_task
from tradewind.scheduler.dag_test import drive, make_run_context
from tradewind.scheduler.dag_test import test_dag as run_dag
from tradewind.scheduler.run_state import RunState

LIVE: dict[str, DAG] = {}


def new_state(dag: DAG, **kwargs) -> RunState:
    LIVE[dag.dag_id] = dag
    return RunState(dag, make_run_context(dag, datetime(2025, 1, 1)), **kwargs)


def execute(state: RunState, records, dag: DAG | None = None) -> None:
    """Run these scheduled instances inline (the tasks of the imported ``dag``) and feed their
    results back."""
    live = dag or LIVE[state.dag.dag_id]
    for item in state.work_items(list(records)):
        state.apply_result(run_task(live.task_dict[item.key.task_id], item, io.StringIO()))


def by_key(state: RunState):
    return {(r.task_id, r.map_index): r for r in state.records()}


def test_max_active_tis_per_dagrun_releases_instances_as_others_finish() -> None:
    with DAG("limited") as dag:

        @task(max_active_tis_per_dagrun=2)
        def work(x):
            return x

        work.expand(x=[1, 2, 3, 4, 5])
    state = new_state(dag)
    first = state.schedule()
    assert [(r.task_id, r.map_index) for r in first] == [("work", 0), ("work", 1)]
    assert state.schedule() == []  # nothing more while two are in flight
    execute(state, first[:1])
    assert [r.map_index for r in state.schedule()] == [2]


def test_instances_of_a_mapped_group_progress_independently() -> None:
    with DAG("groups") as dag:

        @task
        def first(x):
            return x

        @task
        def second(x):
            return x * 10

        @task_group
        def chain_of_two(x):
            return second(first(x))

        chain_of_two.expand(x=[1, 2, 3])
    state = new_state(dag)
    ready = state.schedule()
    assert sorted((r.task_id, r.map_index) for r in ready) == [("chain_of_two.first", i) for i in range(3)]
    execute(state, [r for r in ready if r.map_index == 1])
    # instance 1 of `second` starts while instances 0 and 2 of `first` are still scheduled
    assert [(r.task_id, r.map_index) for r in state.schedule()] == [("chain_of_two.second", 1)]


def test_downstream_trigger_rules_see_every_mapped_instance() -> None:
    with DAG("rules") as dag:

        @task
        def maybe_fail(x):
            if x == 2:
                raise ValueError("two is bad")
            return x

        @task
        def strict(values):
            return list(values)

        @task(trigger_rule="all_done")
        def lenient(values):
            return list(values)

        out = maybe_fail.expand(x=[1, 2, 3])
        strict(out)
        lenient(out)
    state = run_dag(dag, io.StringIO())
    tis = by_key(state)
    assert [tis[("maybe_fail", i)].state for i in range(3)] == [S.SUCCESS, S.FAILED, S.SUCCESS]
    assert tis[("strict", -1)].state is S.UPSTREAM_FAILED
    assert tis[("lenient", -1)].state is S.SUCCESS
    assert tis[("lenient", -1)].return_value == [1, 3]
    assert str(state.dag_run_state()) == "failed"


def test_retries_are_counted_per_instance(tmp_path) -> None:
    marker = tmp_path / "failed-once"
    with DAG("retries") as dag:

        @task(retries=1, retry_delay=0)
        def flaky(x):
            if x == 1 and not marker.exists():
                marker.write_text("x")
                raise RuntimeError("first try of instance 1 fails")
            return x

        flaky.expand(x=[0, 1, 2])
    tis = by_key(run_dag(dag, io.StringIO()))
    assert [(tis[("flaky", i)].state, tis[("flaky", i)].try_number) for i in range(3)] == [
        (S.SUCCESS, 1),
        (S.SUCCESS, 2),
        (S.SUCCESS, 1),
    ]


def test_zero_items_skip_the_mapped_task_and_downstream_follows_trigger_rules() -> None:
    with DAG("empty") as dag:

        @task
        def nothing():
            return []

        @task
        def each(x):
            return x

        @task
        def after(values):
            return "ran"

        @task(trigger_rule="none_failed")
        def tolerant(values):
            return "ran"

        out = each.expand(x=nothing())
        after(out)
        tolerant(out)
    tis = by_key(run_dag(dag, io.StringIO()))
    assert tis[("each", -1)].state is S.SKIPPED
    assert tis[("after", -1)].state is S.SKIPPED
    assert tis[("tolerant", -1)].state is S.SUCCESS


@pytest.mark.parametrize(("value", "type_name"), [(5, "int"), (None, "NoneType"), ("abc", "str")])
def test_unmappable_upstream_value_fails_the_mapped_task_with_names(value, type_name) -> None:
    with DAG("unmappable") as dag:

        @task
        def produce():
            return value

        @task
        def consume(item):
            return item

        consume.expand(item=produce())
    log = io.StringIO()
    tis = by_key(run_dag(dag, log))
    assert tis[("consume", -1)].state is S.FAILED
    message = tis[("consume", -1)].error.message
    assert message.startswith(
        f"Task 'consume' cannot map over argument 'item': it received the return value of 'produce' of type {type_name}"
    )
    assert message in log.getvalue()


def test_list_longer_than_max_map_length_fails_the_producer() -> None:
    with DAG("too_long") as dag:

        @task
        def produce():
            return list(range(11))

        @task
        def consume(item):
            return item

        consume.expand(item=produce())
    tis = by_key(run_dag(dag, io.StringIO(), max_map_length=10))
    assert tis[("produce", -1)].state is S.FAILED
    assert tis[("produce", -1)].error.message == (
        "Task 'produce' returned 11 items for mapped task 'consume', more than max_map_length=10. "
        "Raise the limit with TRADEWIND__CORE__MAX_MAP_LENGTH (or [core] max_map_length in tradewind.toml)."
    )
    assert tis[("consume", -1)].state is S.UPSTREAM_FAILED


def test_trigger_rule_always_on_task_mapped_over_upstream_output_is_rejected() -> None:
    with DAG("always") as dag:

        @task
        def produce():
            return [1]

        @task(trigger_rule="always")
        def consume(item):
            return item

        consume.expand(item=produce())
    with pytest.raises(MappingError, match="Task 'consume' maps over an upstream task's output, so it cannot use"):
        dag.validate()


def test_clearing_a_run_whose_expansion_shrinks_marks_extra_instances_removed(tmp_path) -> None:
    size = tmp_path / "size"
    size.write_text("3")
    with DAG("shrink") as dag:

        @task
        def produce():
            return list(range(int(size.read_text())))

        @task
        def consume(item):
            return item

        consume.expand(item=produce())
    state = run_dag(dag, io.StringIO())
    assert [r.map_index for r in state.records() if r.task_id == "consume"] == [0, 1, 2]
    size.write_text("2")
    state.clear({"produce", "consume"})
    drive(state, InlineExecutor(lambda item: dag.task_dict[item.key.task_id], io.StringIO()), io.StringIO())
    tis = by_key(state)
    assert [(tis[("consume", i)].state, tis[("consume", i)].try_number) for i in range(3)] == [
        (S.SUCCESS, 2),
        (S.SUCCESS, 2),
        (S.REMOVED, 1),
    ]
    assert str(state.dag_run_state()) == "success"


def test_a_mapped_instance_is_sent_only_the_element_it_maps_over() -> None:
    with DAG("sparse") as dag:

        @task
        def produce():
            return list(range(1000))

        @task
        def consume(item, everything):
            return item + len(everything)

        out = produce()
        consume.partial(everything=out).expand(item=out.map(lambda x: x * 2))
        consume.override(task_id="only_mapped").partial(everything=[0]).expand(item=out)
    state = new_state(dag)
    execute(state, state.schedule())
    ready = state.schedule()
    items = {(i.key.task_id, i.key.map_index): i for i in state.work_items(ready)}
    sparse = items[("only_mapped", 7)].inputs[("produce", "return_value")]
    assert len(sparse) == 1000 and sparse[7] == 7
    with pytest.raises(IndexError):
        sparse[8]
    # passed whole through partial() too: the whole list travels
    assert items[("consume", 7)].inputs[("produce", "return_value")] == list(range(1000))
    execute(state, ready)
    tis = by_key(state)
    assert tis[("only_mapped", 7)].return_value == 8
    assert tis[("consume", 7)].return_value == 14 + 1000
