"""The rest of Airflow's authoring surface, each written as a DAG file and run with ``dags test``:
Label, chain_linear, @dag.task, XComArg(task), run_if/skip_if, branch operators, LatestOnly,
other interpreters, assets; and the names tradewind lacks fail the import with the symbol."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagfiles import import_error, load, run, states

from tradewind.definitions.serialized import SerializedDAG
from tradewind.executors.inline import InlineExecutor
from tradewind.scheduler.dag_test import drive, run_context_for
from tradewind.scheduler.run_state import RunState


def test_labels_and_chain_linear(tmp_path: Path) -> None:
    source = """
        from datetime import datetime
        from airflow.sdk import DAG, Label, chain_linear
        from airflow.providers.standard.operators.empty import EmptyOperator

        with DAG("labelled", start_date=datetime(2025, 1, 1), schedule=None) as dag:
            check, ok, bad, a, b = (EmptyOperator(task_id=t) for t in ("check", "ok", "bad", "a", "b"))
            check >> Label("valid") >> ok
            check >> Label("invalid") >> bad
            chain_linear([ok, bad], [a, b])
    """
    dag = load(tmp_path, source, "labelled")
    edges = {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}
    assert edges == {("check", "ok"), ("check", "bad"), ("ok", "a"), ("ok", "b"), ("bad", "a"), ("bad", "b")}
    stored = SerializedDAG.from_dag(dag)
    assert stored.edge_labels == {("check", "ok"): "valid", ("check", "bad"): "invalid"}
    assert run(dag)[0] == "success"


def test_dag_task_and_xcomarg_of_a_classic_operator(tmp_path: Path) -> None:
    source = """
        from datetime import datetime
        from airflow import DAG
        from airflow.models.xcom_arg import XComArg
        from airflow.operators.bash import BashOperator

        dag = DAG("bound", start_date=datetime(2025, 1, 1), schedule=None)

        @dag.task
        def double(value):
            return int(value) * 2

        @dag.task(task_id="plus_one")
        def add_one(value):
            return value + 1

        with dag:
            echo = BashOperator(task_id="echo", bash_command="echo 21")
            add_one(double(XComArg(echo)))
    """
    run_state, results, _, _ = run(load(tmp_path, source, "bound"))
    assert run_state == "success"
    assert results[("double", -1)] == ("success", 42)
    assert results[("plus_one", -1)] == ("success", 43)


def test_run_if_and_skip_if(tmp_path: Path) -> None:
    source = """
        from datetime import datetime
        from airflow.sdk import dag, task

        @dag(start_date=datetime(2025, 1, 1), schedule=None, params={"region": "eu"})
        def conditional():
            @task.run_if(lambda context: context["params"]["region"] == "eu")
            @task
            def eu_only():
                return "eu"

            @task.run_if(lambda context: context["params"]["region"] == "us", skip_message="not the US")
            @task
            def us_only():
                return "us"

            @task.skip_if(lambda context: context["params"]["region"] == "eu")
            @task
            def not_in_eu():
                return "elsewhere"

            eu_only()
            us_only()
            not_in_eu()

        conditional()
    """
    dag = load(tmp_path, source, "conditional")
    _, results, log, _ = run(dag)
    assert results[("eu_only", -1)] == ("success", "eu")
    assert states(results) == {"eu_only": "success", "us_only": "skipped", "not_in_eu": "skipped"}
    assert "not the US" in log
    _, results, _, _ = run(dag, conf={"region": "us"})
    assert states(results) == {"eu_only": "skipped", "us_only": "success", "not_in_eu": "success"}


def test_run_if_must_be_above_task(tmp_path: Path) -> None:
    message = import_error(
        tmp_path,
        """
        from airflow.sdk import task  # a DAG file

        @task
        @task.run_if(lambda context: True)
        def wrong():
            pass
        """,
    )
    assert "@task.run_if must be placed above @task" in message


BRANCHES = """
    from datetime import datetime, time
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.weekday import BranchDayOfWeekOperator
    from airflow.providers.standard.operators.datetime import BranchDateTimeOperator
    from airflow.providers.standard.utils.weekday import WeekDay

    with DAG("branches", start_date=datetime(2025, 1, 1), schedule=None):
        weekday = BranchDayOfWeekOperator(
            task_id="weekday", week_day={WeekDay.SATURDAY, WeekDay.SUNDAY}, use_task_logical_date=True,
            follow_task_ids_if_true="weekend", follow_task_ids_if_false="workday",
        )
        weekday >> [EmptyOperator(task_id="weekend"), EmptyOperator(task_id="workday")]
        in_hours = BranchDateTimeOperator(
            task_id="in_hours", target_lower=time(9), target_upper=time(17), use_task_logical_date=True,
            follow_task_ids_if_true="office", follow_task_ids_if_false="night",
        )
        in_hours >> [EmptyOperator(task_id="office"), EmptyOperator(task_id="night")]
"""


@pytest.mark.parametrize(
    ("logical_date", "expected"),
    [
        (datetime(2025, 6, 7, 10, tzinfo=UTC), {"weekend": "success", "workday": "skipped", "office": "success"}),
        (datetime(2025, 6, 9, 20, tzinfo=UTC), {"weekend": "skipped", "workday": "success", "night": "success"}),
    ],
)
def test_weekday_and_datetime_branches(tmp_path: Path, logical_date: datetime, expected: dict[str, str]) -> None:
    _, results, _, _ = run(load(tmp_path, BRANCHES, "branches"), logical_date=logical_date)
    assert expected.items() <= states(results).items()
    assert {"office", "night"} - set(expected) <= {t for t, s in states(results).items() if s == "skipped"}


LATEST_ONLY = """
    from datetime import datetime
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.latest_only import LatestOnlyOperator

    with DAG("latest", start_date=datetime(2025, 1, 1), schedule="@daily"):
        LatestOnlyOperator(task_id="latest_only") >> EmptyOperator(task_id="report")
"""


def _scheduled_run(dag, start: datetime) -> dict[str, str | None]:
    interval = dag.timetable.infer_manual_data_interval(start)
    interval = type(interval)(start, start.replace(day=start.day + 1))
    context = run_context_for(dag, start, interval, run_type="scheduled")
    state = RunState(dag, context)
    log = io.StringIO()
    drive(state, InlineExecutor(lambda item: dag.task_dict[item.key.task_id], log), log)
    return {r.task_id: str(r.state) for r in state.records()}


def test_latest_only_skips_an_old_scheduled_run_and_lets_manual_runs_through(tmp_path: Path) -> None:
    dag = load(tmp_path, LATEST_ONLY, "latest")
    assert _scheduled_run(dag, datetime(2025, 1, 2, tzinfo=UTC)) == {"latest_only": "success", "report": "skipped"}
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = today.replace(day=today.day - 1) if today.day > 1 else None
    if yesterday is not None:  # the run of the last complete interval is the latest
        assert _scheduled_run(dag, yesterday) == {"latest_only": "success", "report": "success"}
    assert states(run(dag)[1]) == {"latest_only": "success", "report": "success"}  # dags test: manual


def test_external_python_runs_the_function_in_that_interpreter(tmp_path: Path) -> None:
    source = f"""
        from datetime import datetime
        from airflow.sdk import DAG, task
        from airflow.providers.standard.operators.python import ExternalPythonOperator
        from airflow.providers.standard.operators.empty import EmptyOperator

        def where(n):
            import sys
            return [sys.executable, n * 2]

        with DAG("elsewhere", start_date=datetime(2025, 1, 1), schedule=None):
            ExternalPythonOperator(task_id="classic", python={sys.executable!r}, python_callable=where, op_args=[4])

            @task.external_python(python={sys.executable!r})
            def decorated(n):
                return n + 1

            decorated(1)

            @task.branch_external_python(python={sys.executable!r})
            def choose():
                return "left"

            choose() >> [EmptyOperator(task_id="left"), EmptyOperator(task_id="right")]
    """
    _, results, _, _ = run(load(tmp_path, source, "elsewhere"))
    assert results[("classic", -1)] == ("success", [sys.executable, 8])
    assert results[("decorated", -1)] == ("success", 2)
    assert states(results)["left"] == "success" and states(results)["right"] == "skipped"


def test_asset_schedules_and_outlets_import_without_warnings(tmp_path: Path) -> None:
    source = """
        from datetime import datetime
        from airflow.sdk import DAG, Asset
        from airflow.datasets import Dataset
        from airflow.providers.standard.operators.empty import EmptyOperator

        orders = Asset("s3://shop/orders")
        with DAG("consumer", start_date=datetime(2025, 1, 1), schedule=(orders & Dataset("s3://shop/refunds"))):
            EmptyOperator(task_id="report", outlets=[Asset("report")])
    """
    dag = load(tmp_path, source, "consumer")
    assert dag.timetable.summary == "None"  # no time schedule: it runs on its assets (tests/assets)
    assert repr(dag.asset_condition) == (
        "AssetAll(Asset(name='s3://shop/orders', uri='s3://shop/orders', group='asset', extra={}), "
        "Asset(name='s3://shop/refunds', uri='s3://shop/refunds', group='dataset', extra={}))"
    )
    assert dag.import_warnings.messages() == []


@pytest.mark.parametrize(
    ("line", "symbol"),
    [
        ("from airflow.sdk import AssetWatcher", "airflow.sdk.AssetWatcher"),
        ("from airflow.sdk import AllowedKeyMapper", "airflow.sdk.AllowedKeyMapper"),
        ("from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator", "airflow.providers.amazon"),
    ],
)
def test_a_name_tradewind_lacks_fails_the_import_naming_it(tmp_path: Path, line: str, symbol: str) -> None:
    message = import_error(tmp_path, line + "  # in a DAG file\n")
    assert symbol in message
    assert "docs/airflow-compatibility.md" in message
    assert "(line 1)" in message


def test_a_str_enum_task_id_is_stored_as_its_text(tmp_path: Path) -> None:
    # Airflow's example_skip_dag names tasks after TriggerRule members
    source = """
        from datetime import datetime
        from airflow.sdk import DAG, TriggerRule
        from airflow.providers.standard.operators.empty import EmptyOperator

        with DAG("enum_ids", start_date=datetime(2025, 1, 1), schedule=None):
            EmptyOperator(task_id=TriggerRule.ALL_SUCCESS)
    """
    dag = load(tmp_path, source, "enum_ids")
    assert [type(t) for t in dag.task_dict] == [str]
    assert SerializedDAG.from_dag(dag).task_dict["all_success"].task_id == "all_success"


def test_literal_is_passed_without_rendering(tmp_path: Path) -> None:
    source = """
        from datetime import datetime
        from airflow.sdk import DAG, literal
        from airflow.providers.standard.operators.bash import BashOperator

        with DAG("literal_value", start_date=datetime(2025, 1, 1), schedule=None):
            BashOperator(task_id="echo", bash_command=literal("echo '{{ ds }}'"))
            BashOperator(task_id="rendered", bash_command="echo '{{ ds }}'")
    """
    _, results, _, _ = run(load(tmp_path, source, "literal_value"), logical_date=datetime(2025, 3, 4, tzinfo=UTC))
    assert results[("echo", -1)] == ("success", "{{ ds }}")
    assert results[("rendered", -1)] == ("success", "2025-03-04")


def test_param_display_labels_keyed_by_numbers_and_none_can_be_stored(tmp_path: Path) -> None:
    # as in Airflow's example_params_ui_tutorial
    source = """
        from datetime import datetime
        from airflow.sdk import DAG, Param
        from airflow.providers.standard.operators.empty import EmptyOperator

        with DAG("labelled_param", start_date=datetime(2025, 1, 1), schedule=None, params={
            "pick": Param(3, type=["number", "null"], enum=[1, 2, 3, None],
                          values_display={1: "One", 2: "Two", 3: "Three", None: "None (clear selection)"}),
        }):
            EmptyOperator(task_id="show")
    """
    dag = load(tmp_path, source, "labelled_param")
    stored = SerializedDAG.from_dag(dag)
    assert stored.params["pick"].schema["values_display"] == {
        "1": "One",
        "2": "Two",
        "3": "Three",
        "null": "None (clear selection)",
    }
    assert run(dag)[0] == "success"


def test_what_dag_files_import_every_day_from_airflow_sdk() -> None:
    from tradewind.loader import airflow_compat

    assert airflow_compat.install()
    names = (
        "DAG, dag, task, task_group, TaskGroup, chain, chain_linear, cross_downstream, Label, BaseOperator, "
        "BaseSensorOperator, XComArg, Param, ParamsDict, setup, teardown, get_current_context, Context, TriggerRule, "
        "Variable, Connection, Asset, AssetAlias, Metadata, literal"
    )
    namespace: dict[str, object] = {}
    exec(f"from airflow.sdk import {names}", namespace)
    assert all(namespace[name.strip()] is not None for name in names.split(","))


def test_a_task_start_date_other_than_the_dags_warns(tmp_path: Path) -> None:
    source = """
        from datetime import datetime
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.empty import EmptyOperator

        with DAG("dated", schedule=None, default_args={"start_date": datetime(2025, 1, 1)}):
            EmptyOperator(task_id="same")
            EmptyOperator(task_id="later", start_date=datetime(2025, 6, 1))
    """
    assert load(tmp_path, source, "dated").import_warnings.messages() == [
        "task argument start_date (set on task 'later') is ignored on a task when it differs from the DAG's: "
        "every task runs in every run"
    ]


@pytest.mark.slow  # makes a virtual environment
def test_virtualenv_task_runs_in_a_new_environment_kept_for_the_next_run(tmp_path: Path) -> None:
    source = f"""
        from datetime import datetime
        from airflow.sdk import DAG, task

        with DAG("in_venv", start_date=datetime(2025, 1, 1), schedule=None):
            @task.virtualenv(venv_cache_path={str(tmp_path / "venvs")!r})
            def where(n):
                import sys
                return [sys.prefix, n + 1]

            where(1)
    """
    dag = load(tmp_path / "dags", source, "in_venv")
    _, results, _, _ = run(dag)
    state, (prefix, value) = results[("where", -1)]
    assert state == "success" and value == 2
    assert prefix.startswith(str(tmp_path / "venvs")) and prefix != sys.prefix
    assert [p.name for p in (tmp_path / "venvs").iterdir()] == [Path(prefix).name]
    assert run(dag)[1][("where", -1)][1] == [prefix, 2]  # the same environment again


def test_priority_weight_orders_ready_tasks_within_a_run(tmp_path: Path) -> None:
    source = """
        from datetime import datetime
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.empty import EmptyOperator

        with DAG("prioritised", start_date=datetime(2025, 1, 1), schedule=None, max_active_tasks=1):
            low = EmptyOperator(task_id="low", priority_weight=1)
            high = EmptyOperator(task_id="high", priority_weight=10, weight_rule="absolute")
            middle = EmptyOperator(task_id="middle", priority_weight=2)
            middle >> [EmptyOperator(task_id="after_1"), EmptyOperator(task_id="after_2")]  # downstream: 2+1+1
    """
    dag = load(tmp_path, source, "prioritised")
    stored = SerializedDAG.from_dag(dag)
    assert stored.priorities is not None
    assert {t: stored.priorities[t] for t in ("low", "high", "middle")} == {"low": 1, "high": 10, "middle": 4}
    _, _, log, _ = run(dag)
    started = [line.split("Running ")[1].split(" ")[0] for line in log.splitlines() if "INFO - Running " in line]
    assert started[:3] == ["high", "middle", "low"]


def test_a_task_that_yields_asset_metadata_runs_to_its_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))  # no store: the events are only shown
    # as Airflow's example_outlet_event_extra (asset_with_extra_by_yield)
    source = """
        from datetime import datetime
        from airflow.sdk import DAG, Asset, Metadata, task

        report = Asset("s3://shop/report")
        with DAG("yields", start_date=datetime(2025, 1, 1), schedule=None):
            @task(outlets=[report])
            def publish():
                yield Metadata(report, {"rows": 3})
                return "published"

            publish()
    """
    _, results, log, _ = run(load(tmp_path, source, "yields"))
    assert results[("publish", -1)] == ("success", "published")
    assert "asset events of s3://shop/report not recorded: there is no store" in log  # tests/assets
