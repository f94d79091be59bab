"""Setup and teardown tasks behave as in Airflow 3: a teardown runs when work fails, the run's
state ignores a teardown unless ``on_failure_fail_dagrun``, and clearing a task clears its
setups and their teardowns."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from dagfiles import load, run, states

from tradewind.definitions.states import TaskInstanceState, TriggerRule
from tradewind.errors import DagDefinitionError
from tradewind.scheduler.trigger_rules import Decision, evaluate

S = TaskInstanceState
TR = TriggerRule

TEARDOWN_TABLE = [
    # (upstream states, of which setups, decision)
    ([S.SUCCESS, S.FAILED], [S.SUCCESS], Decision.RUN),  # work failed: the teardown still runs
    ([S.SUCCESS, S.UPSTREAM_FAILED], [S.SUCCESS], Decision.RUN),
    ([S.SUCCESS, None], [S.SUCCESS], Decision.WAIT),  # work still running
    ([S.FAILED, S.UPSTREAM_FAILED], [S.FAILED], Decision.UPSTREAM_FAILED),  # no setup succeeded
    ([S.SKIPPED, S.SKIPPED], [S.SKIPPED], Decision.SKIP),  # every setup skipped
    ([S.SUCCESS, S.FAILED, S.SKIPPED], [S.SUCCESS, S.FAILED], Decision.RUN),  # one setup succeeded is enough
]


@pytest.mark.parametrize(("upstream", "setups", "expected"), TEARDOWN_TABLE)
def test_teardown_trigger_rule(upstream, setups, expected) -> None:
    counts = Counter(s for s in upstream if s is not None)
    assert evaluate(TR.ALL_DONE_SETUP_SUCCESS, counts, len(upstream), Counter(setups)) is expected


FAILING_WORK = """
    from datetime import datetime
    from airflow.sdk import dag, task, setup, teardown

    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def cluster_job():
        @setup
        def create_cluster():
            return "cluster-1"

        @task
        def run_query(cluster):
            raise RuntimeError("query failed on " + cluster)

        @task
        def after_query():
            return "never"

        @teardown{teardown_args}
        def delete_cluster(cluster):
            return "deleted " + cluster

        cluster = create_cluster()
        query = run_query(cluster)
        query >> after_query()
        query >> delete_cluster(cluster)

    cluster_job()
"""


def test_teardown_runs_when_work_fails_and_the_run_fails_for_the_work(tmp_path: Path) -> None:
    dag = load(tmp_path, FAILING_WORK.format(teardown_args=""), "cluster_job")
    assert dag.task_dict["create_cluster"].is_setup
    assert dag.task_dict["delete_cluster"].is_teardown
    run_state, results, _, _ = run(dag)
    assert states(results) == {
        "create_cluster": "success",
        "run_query": "failed",
        "after_query": "upstream_failed",
        "delete_cluster": "success",
    }
    assert results[("delete_cluster", -1)][1] == "deleted cluster-1"
    assert run_state == "failed"


TEARDOWN_FAILS = """
    from datetime import datetime
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.empty import EmptyOperator

    with DAG("teardown_fails", start_date=datetime(2025, 1, 1), schedule=None):
        create = BashOperator(task_id="create", bash_command="echo up").as_setup()
        work = EmptyOperator(task_id="work")
        delete = BashOperator(task_id="delete", bash_command="exit 3").as_teardown(
            setups=create{fail_dagrun}
        )
        create >> work >> delete
"""


def test_a_failed_teardown_does_not_fail_the_run(tmp_path: Path) -> None:
    dag = load(tmp_path, TEARDOWN_FAILS.format(fail_dagrun=""), "teardown_fails")
    run_state, results, _, _ = run(dag)
    assert states(results) == {"create": "success", "work": "success", "delete": "failed"}
    assert run_state == "success"


def test_a_failed_teardown_with_on_failure_fail_dagrun_fails_the_run(tmp_path: Path) -> None:
    dag = load(tmp_path, TEARDOWN_FAILS.format(fail_dagrun=", on_failure_fail_dagrun=True"), "teardown_fails")
    run_state, results, _, _ = run(dag)
    assert states(results)["delete"] == "failed"
    assert run_state == "failed"


def test_teardown_is_upstream_failed_when_its_setup_fails(tmp_path: Path) -> None:
    source = """
        from datetime import datetime
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.bash import BashOperator

        with DAG("setup_fails", start_date=datetime(2025, 1, 1), schedule=None):
            create = BashOperator(task_id="create", bash_command="exit 1").as_setup()
            work = BashOperator(task_id="work", bash_command="echo work")
            delete = BashOperator(task_id="delete", bash_command="echo down").as_teardown(setups=create)
            create >> work >> delete
    """
    run_state, results, _, _ = run(load(tmp_path, source, "setup_fails"))
    assert states(results) == {"create": "failed", "work": "upstream_failed", "delete": "upstream_failed"}
    assert run_state == "failed"


def test_context_manager_puts_the_body_between_setup_and_teardown(tmp_path: Path) -> None:
    source = """
        from datetime import datetime
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.empty import EmptyOperator

        with DAG("scoped", start_date=datetime(2025, 1, 1), schedule=None) as dag:
            create = EmptyOperator(task_id="create").as_setup()
            delete = EmptyOperator(task_id="delete").as_teardown(setups=create)
            with delete:
                a = EmptyOperator(task_id="a")
                b = EmptyOperator(task_id="b")
                a >> b
    """
    dag = load(tmp_path, source, "scoped")
    edges = {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}
    assert edges == {("create", "delete"), ("create", "a"), ("a", "b"), ("b", "delete")}
    run_state, results, _, _ = run(dag)
    assert run_state == "success"
    assert set(states(results).values()) == {"success"}


def test_teardown_waits_for_the_tasks_in_its_scope(tmp_path: Path) -> None:
    # "second" may start at once (trigger rule always), but "delete" also waits for "first",
    # which lies between its setup and it without being a direct upstream (Airflow's scope rule)
    from datetime import UTC, datetime

    from tradewind.definitions.instance_key import TaskInstanceKey
    from tradewind.runtime.work import TaskResult
    from tradewind.scheduler.dag_test import make_run_context
    from tradewind.scheduler.run_state import RunState

    source = """
        from datetime import datetime
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.empty import EmptyOperator

        with DAG("scope_wait", start_date=datetime(2025, 1, 1), schedule=None) as dag:
            create = EmptyOperator(task_id="create").as_setup()
            first = EmptyOperator(task_id="first")
            second = EmptyOperator(task_id="second", trigger_rule="always")
            delete = EmptyOperator(task_id="delete").as_teardown(setups=create)
            create >> first >> second >> delete
    """
    dag = load(tmp_path, source, "scope_wait")
    state = RunState(dag, make_run_context(dag))
    now = datetime.now(UTC)

    def finish(*task_ids: str) -> list[str]:
        for task_id in task_ids:
            key = TaskInstanceKey("scope_wait", state.context.run_id, task_id, -1, 1)
            state.apply_result(TaskResult(key, S.SUCCESS, now, now))
        return sorted(r.task_id for r in state.schedule())

    assert sorted(r.task_id for r in state.schedule()) == ["create", "second"]
    assert finish("create", "second") == ["first"]  # not delete: first is in its scope, not done
    assert finish("first") == ["delete"]


def test_clearing_a_work_task_clears_its_setup_and_teardown(tmp_path: Path) -> None:
    dag = load(tmp_path, TEARDOWN_FAILS.format(fail_dagrun=""), "teardown_fails")
    _, _, _, state = run(dag)
    reset = state.clear_instances({"work": None})
    assert sorted(r.task_id for r in reset) == ["create", "delete", "work"]


def test_a_task_cannot_be_setup_and_teardown() -> None:
    from tradewind import DAG, EmptyOperator

    with DAG("both"):
        task = EmptyOperator(task_id="t").as_setup()
        with pytest.raises(DagDefinitionError, match="already a setup task"):
            task.as_teardown()


def test_only_setup_or_teardown_tasks_are_context_managers() -> None:
    from tradewind import DAG, EmptyOperator

    with DAG("plain"):
        task = EmptyOperator(task_id="t")
        with pytest.raises(DagDefinitionError, match="Only setup and teardown tasks"):
            with task:
                pass


def test_setup_and_teardown_survive_serialisation(tmp_path: Path) -> None:
    from tradewind.definitions.serialized import SerializedDAG

    dag = load(tmp_path, TEARDOWN_FAILS.format(fail_dagrun=", on_failure_fail_dagrun=True"), "teardown_fails")
    stored = SerializedDAG.from_dag(dag)
    assert stored.task_dict["create"].is_setup
    assert stored.task_dict["delete"].is_teardown and stored.task_dict["delete"].on_failure_fail_dagrun
    assert stored.task_dict["delete"].trigger_rule is TR.ALL_DONE_SETUP_SUCCESS


def test_a_work_task_does_not_run_when_a_setup_it_works_in_failed(tmp_path: Path) -> None:
    # "report" runs whatever its upstream did (all_done), but not without its cluster
    source = """
        from datetime import datetime
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.bash import BashOperator
        from airflow.providers.standard.operators.empty import EmptyOperator

        with DAG("needs_setup", start_date=datetime(2025, 1, 1), schedule=None):
            create = BashOperator(task_id="create", bash_command="exit 1").as_setup()
            query = EmptyOperator(task_id="query")
            report = EmptyOperator(task_id="report", trigger_rule="all_done")
            delete = EmptyOperator(task_id="delete").as_teardown(setups=create)
            create >> query >> report >> delete
    """
    _, results, _, _ = run(load(tmp_path, source, "needs_setup"))
    assert states(results) == {
        "create": "failed",
        "query": "upstream_failed",
        "report": "upstream_failed",
        "delete": "upstream_failed",
    }
