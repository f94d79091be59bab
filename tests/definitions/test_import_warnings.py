"""No silent ignoring: every Airflow argument tradewind accepts but does not act on gives an
import warning naming it (and the tasks that set it); arguments left at their default give none."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagfiles import load

from tradewind.definitions import compat_warnings
from tradewind.definitions.serialized import SerializedDAG, serialize_dag

CALLBACKS = """
    from datetime import datetime, timedelta
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator

    def notify(context):
        print("callback", context)

    with DAG(
        "noisy",
        start_date=datetime(2025, 1, 1),
        schedule=None,
        on_failure_callback=notify,
        dagrun_timeout=timedelta(hours=1),
        fail_fast=True,
        default_args={"on_failure_callback": notify, "depends_on_past": True, "email": ["ops@example.com"]},
    ):
        a = EmptyOperator(task_id="a", priority_weight=10, sla=timedelta(minutes=5))
        b = EmptyOperator(task_id="b", wait_for_downstream=True, on_retry_callback=notify)
        a >> b
"""


def test_each_ignored_argument_is_named_once_with_its_tasks(tmp_path: Path) -> None:
    dag = load(tmp_path, CALLBACKS, "noisy")
    # (depends_on_past, wait_for_downstream and priority_weight work since issue 9: no warning)
    assert dag.import_warnings.messages() == [
        "task argument sla (set on task 'a') is ignored: tradewind has no SLA checks (Airflow 3 removed them too)",
        "task argument email (set on tasks 'a', 'b') sends no email: tradewind has no mail settings",
    ]
    assert SerializedDAG(serialize_dag(dag)).import_warnings == dag.import_warnings.messages()


def test_defaults_give_no_warning_and_keep_the_version_hash(tmp_path: Path) -> None:
    source = """
        from datetime import datetime
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.empty import EmptyOperator

        with DAG("quiet", start_date=datetime(2025, 1, 1), schedule=None, default_args={"depends_on_past": False}):
            EmptyOperator(task_id="a", priority_weight=1, queue="default", on_failure_callback=None)
    """
    dag = load(tmp_path, source, "quiet")
    assert dag.import_warnings.messages() == []
    assert "warnings" not in serialize_dag(dag)


@pytest.mark.parametrize("name", sorted(compat_warnings.TASK_ARGUMENTS))
def test_every_listed_task_argument_is_accepted_and_warns(name: str) -> None:
    from tradewind import DAG, EmptyOperator

    value = {"priority_weight": 5, "weight_rule": "upstream", "queue": "gpu"}.get(name, ["x"])
    with DAG("one") as dag:
        EmptyOperator(task_id="t", **{name: value})
    [message] = dag.import_warnings.messages()
    assert message.startswith(f"task argument {name} (set on task 't') ")


@pytest.mark.parametrize("name", sorted(compat_warnings.DAG_ARGUMENTS))
def test_every_listed_dag_argument_is_accepted_and_warns(name: str) -> None:
    from tradewind import DAG

    value = {"max_consecutive_failed_dag_runs": 3, "fail_fast": True, "fail_stop": True}.get(name, ["x"])
    dag = DAG("one", **{name: value})
    [message] = dag.import_warnings.messages()
    assert message.startswith(f"DAG argument {name} ")
