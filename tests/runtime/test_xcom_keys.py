"""``ti.xcom_push`` and ``ti.xcom_pull`` with keys and map indexes, with Airflow 3's defaults,
run through ``dags test``."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest

from tradewind import DAG, task
from tradewind.scheduler.dag_test import test_dag as run_dag_test


def run(dag: DAG) -> dict[tuple[str, int], tuple[str, Any]]:
    state = run_dag_test(dag, io.StringIO())
    return {(r.task_id, r.map_index): (str(r.state), r.return_value) for r in state.records()}


def pulled(pull: Any) -> Any:
    """What ``pull(ti)`` gives in a task downstream of: ``pusher`` (pushes key 'k' = 'v', returns
    'ret'), ``mapped`` (3 instances pushing 'k' = 10 * i and returning i, except index 1 which
    returns None) and ``quiet`` (returns nothing)."""
    with DAG("xcoms", start_date=datetime(2025, 1, 1), schedule=None) as dag:

        @task
        def pusher(ti: Any = None) -> str:
            ti.xcom_push(key="k", value="v")
            return "ret"

        @task
        def mapped(i: int, ti: Any = None) -> int | None:
            ti.xcom_push(key="k", value=10 * i)
            return None if i == 1 else i

        @task
        def quiet() -> None:
            return None

        @task
        def reader(ti: Any = None) -> Any:
            return pull(ti)

        [pusher(), mapped.expand(i=[0, 1, 2]), quiet()] >> reader()

    outcome = run(dag)
    assert outcome[("reader", -1)][0] == "success", outcome
    return outcome[("reader", -1)][1]


@pytest.mark.parametrize(
    ("pull", "expected"),
    [
        (lambda ti: ti.xcom_pull(task_ids="pusher"), "ret"),
        (lambda ti: ti.xcom_pull(task_ids="pusher", key="k"), "v"),
        (lambda ti: ti.xcom_pull(task_ids=["pusher", "pusher"], key="k"), ["v", "v"]),
        # without task_ids Airflow 3 reads the calling task's own XComs
        (lambda ti: ti.xcom_pull(key="k"), None),
        (lambda ti: ti.xcom_pull(), None),
        (lambda ti: ti.xcom_pull(task_ids="mapped"), [0, 2]),
        (lambda ti: ti.xcom_pull(task_ids="mapped", key="k"), [0, 10, 20]),
        (lambda ti: ti.xcom_pull(task_ids="mapped", map_indexes=[0, 2]), [0, 2]),
        (lambda ti: ti.xcom_pull(task_ids="mapped", key="k", map_indexes=[2, 0]), [20, 0]),
        (lambda ti: ti.xcom_pull(task_ids="mapped", map_indexes=2), 2),
        (lambda ti: ti.xcom_pull(task_ids="mapped", map_indexes=1, default="none"), "none"),
        (lambda ti: ti.xcom_pull(task_ids="mapped", map_indexes=[1, 2], default="none"), ["none", 2]),
        (lambda ti: ti.xcom_pull(task_ids="pusher", map_indexes=0, default="d"), "d"),
        (lambda ti: ti.xcom_pull(task_ids="pusher", map_indexes=-1), "ret"),
        (lambda ti: ti.xcom_pull(task_ids="quiet"), None),
        (lambda ti: ti.xcom_pull(task_ids="quiet", default="unused without map_indexes"), None),
        (lambda ti: ti.xcom_pull(task_ids=["pusher", "mapped"]), ["ret", 0, 2]),
    ],
)
def test_xcom_pull(pull: Any, expected: Any) -> None:
    assert pulled(pull) == expected


def test_a_task_pulls_what_it_pushed_itself() -> None:
    with DAG("own", start_date=datetime(2025, 1, 1), schedule=None) as dag:

        @task
        def both(ti: Any = None) -> Any:
            ti.xcom_push(key="k", value=[1, 2])
            return ti.xcom_pull(key="k")

        both()

    assert run(dag) == {("both", -1): ("success", [1, 2])}


def test_pushed_keys_reach_a_mapped_consumer_per_index_in_a_mapped_group() -> None:
    from tradewind import task_group

    with DAG("group_keys", start_date=datetime(2025, 1, 1), schedule=None) as dag:

        @task_group
        def per_item(n: int) -> Any:
            @task
            def push(n: int, ti: Any = None) -> None:
                ti.xcom_push(key="twice", value=2 * n)

            @task
            def pull(ti: Any = None) -> Any:
                return ti.xcom_pull(task_ids="per_item.push", key="twice")

            return push(n) >> pull()

        per_item.expand(n=[1, 2])

    outcome = run(dag)
    assert outcome[("per_item.pull", 0)] == ("success", 2)
    assert outcome[("per_item.pull", 1)] == ("success", 4)


def test_unsupported_xcom_pull_arguments_fail_the_task_with_a_message() -> None:
    with DAG("prior", start_date=datetime(2025, 1, 1), schedule=None) as dag:

        @task
        def up() -> int:
            return 1

        @task
        def reader(ti: Any = None) -> Any:
            return ti.xcom_pull(task_ids="up", include_prior_dates=True)

        up() >> reader()

    state = run_dag_test(dag, io.StringIO())
    [record] = [r for r in state.records() if r.task_id == "reader"]
    assert str(record.state) == "failed"
    assert record.error is not None and "include_prior_dates" in record.error.message


def test_pulling_from_a_task_that_is_not_a_direct_upstream_fails_saying_how_to_fix_it() -> None:
    with DAG("indirect", start_date=datetime(2025, 1, 1), schedule=None) as dag:

        @task
        def first() -> int:
            return 1

        @task
        def middle() -> int:
            return 2

        @task
        def last(ti: Any = None) -> Any:
            return [ti.xcom_pull(task_ids="middle"), ti.xcom_pull(task_ids="no_such_task")]

        @task
        def reads_first(ti: Any = None) -> Any:
            return ti.xcom_pull(task_ids="first")

        first() >> middle() >> [last(), reads_first()]

    state = run_dag_test(dag, io.StringIO())
    records = {r.task_id: r for r in state.records()}
    assert (str(records["last"].state), records["last"].return_value) == ("success", [2, None])
    failed = records["reads_first"]
    assert str(failed.state) == "failed" and failed.error is not None
    assert "'first' is not a direct upstream task of 'reads_first'" in failed.error.message
    assert "first >> reads_first" in failed.error.message
