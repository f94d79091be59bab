"""ExternalTaskMarker: clearing a marker (``tasks clear``, the API's clear, control) clears the
marked task and its downstream in the other DAG's run at the same logical date, following
markers there up to ``recursion_depth`` (Airflow 2's rule; Airflow 3.3 lost it, apache/airflow
#61451). And ExternalTaskSensor(external_task_group_id=...). All on a real SQLite store, runs
driven by the real scheduler (inline executor)."""

from __future__ import annotations

import textwrap
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.scheduler.test_trigger_dagrun import Home

from tradewind import control
from tradewind.cli.main import main
from tradewind.control.errors import Conflict
from tradewind.definitions.states import DagRunState
from tradewind.errors import DagDefinitionError
from tradewind.loader import load_dags
from tradewind.scheduler.records import InstanceRecord

DAY = datetime(2025, 1, 2, tzinfo=UTC)

PARENT = """
    from datetime import datetime
    from airflow.sdk import DAG, task
    from airflow.providers.standard.sensors.external_task import ExternalTaskMarker

    with DAG("parent", schedule=None, start_date=datetime(2025, 1, 1)):
        @task
        def produce():
            return "made"

        produce() >> ExternalTaskMarker(task_id="mark", external_dag_id="child", external_task_id="wait"{depth})
"""

CHILD = """
    from datetime import datetime
    from airflow.sdk import DAG, task, TaskGroup
    from airflow.providers.standard.sensors.external_task import ExternalTaskSensor

    with DAG("child", schedule=None, start_date=datetime(2025, 1, 1)):
        wait = ExternalTaskSensor(task_id="wait", external_dag_id="parent", external_task_id="produce",
                                  mode="reschedule", poke_interval=0.05, timeout=30)
        with TaskGroup("grp") as grp:
            @task
            def one():
                return 1

            @task
            def two():
                return 2

            one() >> two()
        wait_group = ExternalTaskSensor(task_id="wait_group", external_dag_id="child_tail",
                                        external_task_group_id="tail", mode="reschedule", poke_interval=0.05,
                                        timeout=30)
        wait >> grp
        wait_group
"""

CHILD_TAIL = """
    from datetime import datetime
    from airflow.sdk import DAG, task, TaskGroup

    with DAG("child_tail", schedule=None, start_date=datetime(2025, 1, 1)):
        with TaskGroup("tail"):
            with TaskGroup("inner"):
                @task
                def deep():
                    return "deep"

                deep()
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    return Home(tmp_path)


def run_all(home: Home, dag_ids: list[str]) -> None:
    for dag_id in dag_ids:
        home.gateway.create_manual_run(home.gateway.get_dag(dag_id), DAY, {}, run_id=f"{dag_id}_run")
    home.run_scheduler()


def states(home: Home, dag_id: str) -> dict[str, str | None]:
    return {task: state for task, (state, _) in home.instances(dag_id, f"{dag_id}_run").items()}


def test_clearing_a_marker_clears_the_marked_task_and_its_downstream_in_the_other_dag(home: Home) -> None:
    home.store("parent.py", PARENT.format(depth=""))
    home.store("child.py", CHILD)
    home.store("child_tail.py", CHILD_TAIL)
    run_all(home, ["child_tail", "parent", "child"])
    done = {"wait": "success", "grp.one": "success", "grp.two": "success", "wait_group": "success"}
    assert states(home, "child") == done  # the group sensor saw every instance of the nested group succeed

    cleared = control.clear_task_instances(home.engine, "parent", run_id="parent_run", task_ids=["mark"], dry_run=False)

    assert [(c.dag_id, c.run_id, c.task_id) for c in cleared] == [
        (None, "parent_run", "mark"),  # the DAG named
        ("child", "child_run", "grp.one"),
        ("child", "child_run", "grp.two"),
        ("child", "child_run", "wait"),
    ]
    # the marked task and its downstream are reset; the rest of the child's run is kept
    assert states(home, "child") == {"wait": None, "grp.one": None, "grp.two": None, "wait_group": "success"}
    assert home.runs("child") == {"child_run": "queued"}
    home.run_scheduler()
    assert states(home, "child") == done
    assert home.instances("child", "child_run")["grp.two"] == ("success", 2)


def test_the_cli_lists_and_clears_what_markers_reach(home: Home) -> None:
    home.store("parent.py", PARENT.format(depth=""))
    home.store("child.py", CHILD.replace("wait_group =", "wait_group = None and"))  # no group sensor
    run_all(home, ["parent", "child"])
    folder = ["--dags-folder", str(home.dags_folder)]

    result = CliRunner().invoke(main, ["tasks", "clear", "parent", "--task-regex", "^mark$", "--yes", *folder])

    assert result.exit_code == 0, result.output
    assert "child_run  wait  (DAG child)" in result.output
    assert "Cleared 4 task instance(s)" in result.output
    assert states(home, "child")["grp.two"] is None


def test_a_marked_run_that_is_running_refuses_the_whole_clear(home: Home) -> None:
    home.store("parent.py", PARENT.format(depth=""))
    home.store("child.py", CHILD.replace("wait_group =", "wait_group = None and"))
    run_all(home, ["parent", "child"])
    with home.gateway.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE dag_run SET state = 'running' WHERE dag_id = 'child'")

    with pytest.raises(Conflict, match="ExternalTaskMarker 'mark' of DAG 'parent' .* clears 'wait' in DAG 'child'"):
        control.clear_task_instances(home.engine, "parent", run_id="parent_run", task_ids=["mark"], dry_run=False)

    assert states(home, "parent")["mark"] == "success"  # nothing changed
    assert states(home, "child")["wait"] == "success"


CYCLE = """
    from datetime import datetime
    from airflow.sdk import DAG
    from airflow.providers.standard.sensors.external_task import ExternalTaskMarker

    with DAG("{me}", schedule=None, start_date=datetime(2025, 1, 1)):
        ExternalTaskMarker(task_id="mark", external_dag_id="{other}", external_task_id="mark",
                           recursion_depth={depth})
"""


def test_a_chain_of_markers_deeper_than_recursion_depth_is_refused_with_airflows_message(home: Home) -> None:
    home.store("a.py", CYCLE.format(me="a", other="b", depth=1))
    home.store("b.py", CYCLE.format(me="b", other="a", depth=1))
    run_all(home, ["a", "b"])

    with pytest.raises(Conflict, match="Maximum recursion depth 1 reached for ExternalTaskMarker mark"):
        control.clear_task_instances(home.engine, "a", run_id="a_run", task_ids=["mark"], dry_run=False)
    assert (home.runs("a"), home.runs("b")) == ({"a_run": "success"}, {"b_run": "success"})


def test_a_cycle_within_the_depth_ends_where_it_started(home: Home) -> None:
    home.store("a.py", CYCLE.format(me="a", other="b", depth=3))
    home.store("b.py", CYCLE.format(me="b", other="a", depth=3))
    run_all(home, ["a", "b"])

    control.clear_task_instances(home.engine, "a", run_id="a_run", task_ids=["mark"], dry_run=False)

    assert (states(home, "a"), states(home, "b")) == ({"mark": None}, {"mark": None})


def test_with_no_run_of_the_other_dag_at_that_date_only_the_own_dag_is_cleared(home: Home) -> None:
    home.store("parent.py", PARENT.format(depth=", recursion_depth=1"))
    home.store("child.py", CHILD)
    run_all(home, ["parent"])

    cleared = control.clear_task_instances(home.engine, "parent", run_id="parent_run", dry_run=False)

    assert {c.task_id for c in cleared} == {"produce", "mark"}
    assert home.runs("child") == {}


def test_a_marker_checks_its_arguments() -> None:
    from tradewind.definitions.external_task import ExternalTaskMarker

    with pytest.raises(DagDefinitionError, match=r"ExternalTaskMarker \(task_id: m\): recursion_depth must be"):
        ExternalTaskMarker(task_id="m", external_dag_id="d", external_task_id="t", recursion_depth=0)
    marker = ExternalTaskMarker(task_id="m2", external_dag_id="d", external_task_id="t", execution_date=DAY)
    assert marker.logical_date == DAY.isoformat()  # Airflow 2's name of the argument


# -- Airflow's example_external_task_marker_dag (from its 2.10 wheel; Airflow 3.3 ships the same
# file in its standard provider, where clearing no longer follows the marker)
def test_airflow_example_external_task_marker(home: Home, tmp_path: Path) -> None:
    wheels = sorted((Path(__file__).parents[2] / ".cache" / "airflow-wheels").glob("apache_airflow-2.*.whl"))
    if not wheels:
        pytest.skip("apache_airflow-2 wheel not in .cache/airflow-wheels: run scripts/test, which downloads it")
    with zipfile.ZipFile(wheels[-1]) as archive:
        source = archive.read("airflow/example_dags/example_external_task_marker_dag.py").decode()
    home.store("example_external_task_marker_dag.py", source)
    parent, child = "example_external_task_marker_parent", "example_external_task_marker_child"
    # the parent runs as in Airflow (the marker is an empty task); the child's run is stored as
    # Airflow would have finished it (its child_task2 waits 600 s for a task group that does not exist)
    run_all(home, [parent])
    assert states(home, parent) == {"parent_task": "success"}
    context = home.gateway.create_manual_run(home.gateway.get_dag(child), DAY, {}, run_id=f"{child}_run")
    done = [InstanceRecord(t, state="success", try_number=1) for t in ("child_task1", "child_task2", "child_task3")]
    home.gateway.save_records(child, context.run_id, done, set())
    home.gateway.finish_runs([(child, context.run_id, DagRunState.SUCCESS)])

    control.clear_task_instances(home.engine, parent, run_id=f"{parent}_run", task_ids=["parent_task"], dry_run=False)

    assert states(home, child) == {"child_task1": None, "child_task2": None, "child_task3": None}
    assert home.runs(child) == {f"{child}_run": "queued"}
    assert home.runs(parent) == {f"{parent}_run": "queued"}


def test_external_task_group_id_is_accepted_and_checked(tmp_path: Path) -> None:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "bad.py").write_text(
        textwrap.dedent(
            """
            from datetime import datetime
            from airflow.sdk import DAG
            from airflow.providers.standard.sensors.external_task import ExternalTaskSensor

            with DAG("bad", schedule=None, start_date=datetime(2025, 1, 1)):
                ExternalTaskSensor(task_id="w", external_dag_id="x", external_task_id="t", external_task_group_id="g")
            """
        )
    )
    bag = load_dags(folder)
    [error] = bag.import_errors.values()
    assert "give one of external_task_id, external_task_ids and external_task_group_id" in error.error


def test_the_api_clear_lists_the_instances_cleared_in_the_other_dag(home: Home) -> None:
    from fastapi.testclient import TestClient

    from tradewind.api.app import create_app
    from tradewind.auth.tokens import issue_token, secret_key
    from tradewind.auth.users import create_user
    from tradewind.store.engine import session_scope

    home.store("parent.py", PARENT.format(depth=""))
    home.store("child.py", CHILD.replace("wait_group =", "wait_group = None and"))
    run_all(home, ["parent", "child"])
    with session_scope(home.engine) as session:
        token = issue_token(create_user(session, "op_user", "op-password", "op"), secret_key(session))
    client = TestClient(create_app(home.engine, logs_folder=home.dags_folder.parent / "logs", with_ui=False))
    body = {"dag_run_id": "parent_run", "task_ids": ["mark"], "dry_run": False, "only_failed": False}

    response = client.post(
        "/api/v2/dags/parent/clearTaskInstances", json=body, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200, response.text
    listed = [(t["dag_id"], t["task_id"], t["state"]) for t in response.json()["task_instances"]]
    assert listed == [
        ("parent", "mark", None),
        ("child", "grp.one", None),
        ("child", "grp.two", None),
        ("child", "wait", None),
    ]
