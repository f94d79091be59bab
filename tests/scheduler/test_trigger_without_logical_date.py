"""A manual run triggered without a logical date, as Airflow 3 makes it for a DAG written for
Airflow 3: no logical date, no data interval, run id ``manual__<run_after>``, and a context
without the keys made from them (a template reading ``{{ ds }}`` fails). A DAG of any other
file keeps the trigger time as its logical date. The DAG files are imported in this process and
stored as the DAG processor stores them; the scheduler runs the tasks inline, from the store."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.scheduler.scheduler_home import SchedulerHome

from tradewind.store import queries as q
from tradewind.store.engine import session_scope

BODY = """
    @task
    def look():
        from airflow.sdk import get_current_context

        context = get_current_context()
        logical_date, run_after = context["dag_run"].logical_date, context["dag_run"].run_after
        return {
            "keys": sorted(context),
            "key_str": context["task_instance_key_str"],
            "dag_run_logical_date": logical_date.isoformat() if logical_date else None,
            "run_after": run_after.isoformat(),
        }

    look() >> BashOperator(task_id="templated", bash_command="echo {{ ds }}")
"""
AIRFLOW3 = textwrap.dedent("""
    from airflow.sdk import DAG, task
    from airflow.providers.standard.operators.bash import BashOperator

    with DAG("af3", schedule=None):
""") + textwrap.indent(textwrap.dedent(BODY), "    ")
AIRFLOW3_CRON = AIRFLOW3.replace('DAG("af3", schedule=None)', 'DAG("af3_cron", schedule="@daily", catchup=False)')
AIRFLOW2 = textwrap.dedent("""
    import pendulum
    from airflow import DAG
    from airflow.decorators import task
    from airflow.operators.bash import BashOperator

    with DAG("af2", schedule_interval=None, start_date=pendulum.datetime(2025, 1, 1)):
""") + textwrap.indent(textwrap.dedent(BODY), "    ")
ABSENT = {
    "logical_date",
    "execution_date",
    "ds",
    "ds_nodash",
    "ts",
    "ts_nodash",
    "ts_nodash_with_tz",
    "data_interval_start",
    "data_interval_end",
}


class Home(SchedulerHome):
    def seen(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """What the task ``look`` saw in its context (its return value)."""
        with session_scope(self.engine) as session:
            (xcom,) = [x for x in q.get_xcoms(session, dag_id, run_id) if x.task_id == "look"]
        return dict(xcom.value)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    for key in ("CREATE_CRON_DATA_INTERVALS", "CREATE_DELTA_DATA_INTERVALS"):
        monkeypatch.delenv(f"TRADEWIND__SCHEDULER__{key}", raising=False)
    return Home(tmp_path)


@pytest.mark.parametrize(
    ("name", "source", "dag_id"), [("af3.py", AIRFLOW3, "af3"), ("cron.py", AIRFLOW3_CRON, "af3_cron")]
)
def test_an_airflow_3_dag_triggered_without_a_logical_date_has_none(
    home: Home, name: str, source: str, dag_id: str
) -> None:
    home.store(name, source)
    before = datetime.now(UTC)
    context = home.gateway.create_manual_run(home.gateway.get_dag(dag_id), None, {})
    after = datetime.now(UTC)

    assert (context.logical_date, context.data_interval_start, context.data_interval_end) == (None, None, None)
    assert context.run_after is not None and before <= context.run_after <= after
    assert context.run_id == f"manual__{context.run_after.isoformat()}"
    (row,) = home.gateway.list_runs(dag_id)
    assert (row.run_id, row.logical_date, row.data_interval_start, row.run_after) == (
        context.run_id,
        None,
        None,
        context.run_after,
    )
    second = home.gateway.create_manual_run(home.gateway.get_dag(dag_id), None, {})  # runs ids differ: both kept
    assert [r.run_id for r in home.gateway.list_runs(dag_id)] == [second.run_id, context.run_id]

    # a logical date given is kept, with the interval the timetable infers, as in Airflow 3
    given = home.gateway.create_manual_run(home.gateway.get_dag(dag_id), datetime(2025, 3, 1, tzinfo=UTC), {})
    assert given.logical_date == datetime(2025, 3, 1, tzinfo=UTC) and given.data_interval_end is not None


def test_the_scheduler_runs_it_with_the_context_airflow_3_gives(home: Home) -> None:
    home.store("af3.py", AIRFLOW3)
    context = home.gateway.create_manual_run(home.gateway.get_dag("af3"), None, {})

    log = home.run_scheduler()

    states = {row["task_id"]: row for row in home.gateway.task_states("af3", context.run_id)}
    assert states["look"]["state"] == "success"
    seen = home.seen("af3", context.run_id)
    assert set(seen["keys"]) & ABSENT == set()
    assert {"run_id", "dag_run", "ti", "params", "task_instance_key_str"} <= set(seen["keys"])
    assert seen["key_str"] == f"af3__look__{context.run_id}"
    assert seen["dag_run_logical_date"] is None
    assert seen["run_after"] == context.run_after.isoformat()  # type: ignore[union-attr]
    # {{ ds }} is an undefined name: the task fails with Jinja's message, as on Airflow 3
    assert states["templated"]["state"] == "failed"
    assert "'ds' is undefined" in states["templated"]["error"], states["templated"]["error"]
    assert [r.state for r in home.gateway.list_runs("af3")] == ["failed"]
    assert "af3" in log

    # cleared, the run goes again from its stored row, still without a logical date
    dag = home.gateway.get_dag("af3")
    cleared = home.gateway.clear(
        dag,
        run_id=context.run_id,
        task_regex="^look$",
        map_index=None,
        only_failed=False,
        downstream=True,
        dry_run=False,
    )
    assert cleared == [(context.run_id, "look", -1), (context.run_id, "templated", -1)]
    home.run_scheduler()
    states = {row["task_id"]: row for row in home.gateway.task_states("af3", context.run_id)}
    assert [(states[t]["state"], states[t]["try_number"]) for t in ("look", "templated")] == [
        ("success", 2),
        ("failed", 2),
    ]
    assert home.seen("af3", context.run_id)["dag_run_logical_date"] is None


def test_an_airflow_2_dag_keeps_the_trigger_time_as_its_logical_date(home: Home) -> None:
    home.store("af2.py", AIRFLOW2)
    before = datetime.now(UTC)
    context = home.gateway.create_manual_run(home.gateway.get_dag("af2"), None, {})

    assert context.logical_date is not None and before <= context.logical_date <= datetime.now(UTC)
    assert context.run_id == f"manual__{context.logical_date.isoformat()}"
    home.run_scheduler()

    states = {row["task_id"]: row["state"] for row in home.gateway.task_states("af2", context.run_id)}
    assert states == {"look": "success", "templated": "success"}
    seen = home.seen("af2", context.run_id)
    assert ABSENT <= set(seen["keys"])
    assert seen["key_str"] == f"af2__look__{context.logical_date.strftime('%Y%m%d')}"
    assert seen["dag_run_logical_date"] == context.logical_date.isoformat()


def test_schedule_interval_in_an_airflow_3_file_is_an_airflow_2_dag(home: Home) -> None:
    """``schedule_interval=`` does not exist in Airflow 3: such a DAG was written for Airflow 2."""
    home.store("mixed.py", AIRFLOW3.replace('DAG("af3", schedule=None)', 'DAG("mixed", schedule_interval=None)'))
    context = home.gateway.create_manual_run(home.gateway.get_dag("mixed"), None, {})
    assert context.logical_date is not None


@pytest.mark.parametrize(
    ("imports", "dag_args", "setting", "without_logical_date"),
    [
        ("from airflow.sdk import DAG", "schedule=None", "auto", True),
        ("from airflow.sdk import DAG", 'schedule="@daily"', "true", True),  # settings change timetables only
        ("from airflow.sdk import DAG\nfrom datetime import timedelta", "schedule=timedelta(hours=1)", "false", True),
        ("from airflow import DAG\nimport airflow.providers.standard.operators.empty", "schedule=None", "auto", True),
        ("from airflow import DAG", "schedule=None", "auto", False),  # valid in both: an Airflow 2 file
        ("from airflow import DAG", 'schedule="@daily"', "false", False),
        ("from tradewind import DAG", "schedule=None", "auto", False),
        ("from airflow.sdk import DAG", "schedule_interval=None", "auto", False),
    ],
)
def test_which_dags_get_runs_without_a_logical_date(
    home: Home, monkeypatch: pytest.MonkeyPatch, imports: str, dag_args: str, setting: str, without_logical_date: bool
) -> None:
    for key in ("CREATE_CRON_DATA_INTERVALS", "CREATE_DELTA_DATA_INTERVALS"):
        monkeypatch.setenv(f"TRADEWIND__SCHEDULER__{key}", setting)
    home.store("which.py", f"{imports}\n\ndag = DAG('which', {dag_args}, start_date=None)\n")
    dag = home.gateway.get_dag("which")
    assert dag.logical_date_on_trigger is not without_logical_date
    context = home.gateway.create_manual_run(dag, None, {})
    assert (context.logical_date is None) is without_logical_date


def test_a_dag_starting_in_the_future_still_runs_its_tasks(home: Home) -> None:
    """Airflow leaves out tasks whose dates do not cover the run's logical date; a run without
    one has them all."""
    source = AIRFLOW3.replace(
        'DAG("af3", schedule=None)', 'DAG("later", schedule=None, start_date=datetime(2099, 1, 1, tzinfo=timezone.utc))'
    )
    home.store("later.py", "from datetime import datetime, timezone\n" + source)
    context = home.gateway.create_manual_run(home.gateway.get_dag("later"), None, {})
    home.run_scheduler()
    states = {row["task_id"]: row["state"] for row in home.gateway.task_states("later", context.run_id)}
    assert states == {"look": "success", "templated": "failed"}
