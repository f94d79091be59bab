"""Where ``dags test`` used to differ from Airflow 3 without a word: dates outside the DAG's
range, ``test_mode``, and the return value of a task that skipped its downstream tasks."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from tradewind import DAG, task
from tradewind.definitions.operators.python import ShortCircuitOperator
from tradewind.scheduler.dag_test import test_dag as run_dag_test


def outcome(dag: DAG, **kwargs: Any) -> tuple[str, dict[str, tuple[str | None, Any]]]:
    state = run_dag_test(dag, io.StringIO(), **kwargs)
    records = {r.task_id: (str(r.state) if r.state else None, r.return_value) for r in state.records()}
    return str(state.dag_run_state()), records


def test_a_logical_date_before_start_date_creates_no_task_instances() -> None:
    with DAG("early", start_date=datetime(2025, 6, 1), schedule=None) as dag:

        @task
        def work() -> int:
            return 1

        work()

    assert outcome(dag, logical_date=datetime(2025, 5, 31, tzinfo=UTC)) == ("success", {})
    log = io.StringIO()
    run_dag_test(dag, log, logical_date=datetime(2025, 5, 31, tzinfo=UTC))
    assert "logical date 2025-05-31T00:00:00+00:00 is outside the DAG's start_date..end_date" in log.getvalue()
    assert outcome(dag, logical_date=datetime(2025, 6, 1, tzinfo=UTC)) == ("success", {"work": ("success", 1)})


def test_a_logical_date_after_end_date_creates_no_task_instances() -> None:
    with DAG("late", start_date=datetime(2025, 1, 1), end_date=datetime(2025, 2, 1), schedule=None) as dag:

        @task
        def work() -> int:
            return 1

        work()

    assert outcome(dag, logical_date=datetime(2025, 2, 2, tzinfo=UTC)) == ("success", {})


def test_test_mode_is_false_under_dags_test_as_in_airflow_3() -> None:
    with DAG("modes", start_date=datetime(2025, 1, 1), schedule=None) as dag:

        @task
        def mode(**context: Any) -> Any:
            return context["test_mode"]

        mode()

    assert outcome(dag) == ("success", {"mode": ("success", False)})


def test_a_branch_that_skips_stores_no_return_value() -> None:
    with DAG("branching", start_date=datetime(2025, 1, 1), schedule=None) as dag:

        @task.branch
        def choose() -> str:
            return "left"

        @task
        def left() -> str:
            return "L"

        @task
        def right() -> str:
            return "R"

        choose() >> [left(), right()]

    assert outcome(dag) == (
        "success",
        {"choose": ("success", None), "left": ("success", "L"), "right": ("skipped", None)},
    )


def test_a_branch_following_every_downstream_task_keeps_its_return_value() -> None:
    with DAG("branch_all", start_date=datetime(2025, 1, 1), schedule=None) as dag:

        @task.branch
        def choose() -> list[str]:
            return ["left"]

        @task
        def left() -> str:
            return "L"

        choose() >> left()

    assert outcome(dag)[1]["choose"] == ("success", ["left"])


def test_a_false_short_circuit_stores_no_return_value_and_a_true_one_does() -> None:
    with DAG("circuits", start_date=datetime(2025, 1, 1), schedule=None) as dag:
        stop = ShortCircuitOperator(task_id="stop", python_callable=lambda: 0)
        go = ShortCircuitOperator(task_id="go", python_callable=lambda: "yes")

        @task
        def after_stop() -> int:
            return 1

        @task
        def after_go() -> int:
            return 2

        stop >> after_stop()
        go >> after_go()

    assert outcome(dag)[1] == {
        "stop": ("success", None),
        "after_stop": ("skipped", None),
        "go": ("success", "yes"),
        "after_go": ("success", 2),
    }
