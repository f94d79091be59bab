"""Jinja templating of operator fields, seen through a real in-process run (``dags test``)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tradewind import DAG, BashOperator, PythonOperator, TaskGroup, task
from tradewind.definitions.states import TaskInstanceState
from tradewind.scheduler import dag_test
from tradewind.scheduler.run_state import InstanceRecord

WHEN = datetime(2025, 7, 2, tzinfo=UTC)
START = datetime(2025, 1, 1)


def run(d: DAG, *, conf: dict[str, Any] | None = None) -> dict[str, InstanceRecord]:
    log = io.StringIO()
    state = dag_test.test_dag(d, log, logical_date=WHEN, conf=conf)
    records = {r.task_id: r for r in state.records()}
    for record in records.values():
        assert record.state is TaskInstanceState.SUCCESS, f"{record.task_id}: {record.error}\n{log.getvalue()}"
    return records


def returned(d: DAG, task_id: str, **kwargs: Any) -> Any:
    return run(d, **kwargs)[task_id].return_value


def daily_dag(dag_id: str = "tpl", **kwargs: Any) -> DAG:
    return DAG(dag_id, schedule="@daily", start_date=START, **kwargs)


# -- BashOperator


def test_bash_command_renders_ds_and_params() -> None:
    with daily_dag(params={"x": "hello"}) as d:
        BashOperator(task_id="echo", bash_command="echo {{ ds }} {{ params.x }}")
    record = run(d)["echo"]
    assert record.return_value == "2025-07-02 hello"
    assert record.try_number == 1
    assert record.map_index == -1


def test_ds_nodash_and_ts_nodash() -> None:
    with daily_dag() as d:
        BashOperator(task_id="echo", bash_command="echo {{ ds_nodash }} {{ ts_nodash }}")
    assert returned(d, "echo") == "20250702 20250702T000000"


def test_logical_date_and_ts() -> None:
    with daily_dag() as d:
        BashOperator(task_id="echo", bash_command="echo {{ ts }} {{ logical_date.year }}")
    assert returned(d, "echo") == "2025-07-02T00:00:00+00:00 2025"


def test_data_interval_of_daily_dag_tested_at_a_date() -> None:
    with daily_dag() as d:
        BashOperator(
            task_id="echo",
            bash_command="echo {{ data_interval_start.isoformat() }} {{ data_interval_end.isoformat() }}",
        )
    assert returned(d, "echo") == "2025-07-01T00:00:00+00:00 2025-07-02T00:00:00+00:00"


def test_data_interval_start_renders_as_a_date_time() -> None:
    with daily_dag() as d:
        BashOperator(task_id="echo", bash_command="echo '{{ data_interval_start }}'")
    rendered = returned(d, "echo")
    assert rendered.startswith("2025-07-01")
    assert "00:00:00" in rendered


def test_data_interval_through_dag_run() -> None:
    with daily_dag() as d:
        BashOperator(
            task_id="echo",
            bash_command="echo {{ dag_run.data_interval_start | ds }} {{ dag_run.data_interval_end | ds }}",
        )
    assert returned(d, "echo") == "2025-07-01 2025-07-02"


def test_run_id() -> None:
    with daily_dag() as d:
        BashOperator(task_id="echo", bash_command="echo '{{ run_id }}' '{{ dag_run.run_id }}'")
    assert returned(d, "echo") == "manual__2025-07-02T00:00:00+00:00 manual__2025-07-02T00:00:00+00:00"


def test_dag_and_task_objects() -> None:
    with daily_dag("my_dag") as d, TaskGroup("grp"):
        BashOperator(task_id="echo", bash_command="echo {{ dag.dag_id }} {{ task.task_id }} {{ ti.task_id }}")
    assert returned(d, "grp.echo") == "my_dag grp.echo grp.echo"


def test_dag_run_conf() -> None:
    with daily_dag() as d:
        BashOperator(task_id="echo", bash_command="echo {{ dag_run.conf['who'] }} {{ dag_run.conf | length }}")
    assert returned(d, "echo", conf={"who": "world"}) == "world 1"


def test_run_conf_overrides_params() -> None:
    with daily_dag(params={"who": "default"}) as d:
        BashOperator(task_id="echo", bash_command="echo {{ params.who }}")
    assert returned(d, "echo") == "default"
    assert returned(d, "echo", conf={"who": "override"}) == "override"


def test_templated_env() -> None:
    with daily_dag() as d:
        BashOperator(
            task_id="echo",
            bash_command='echo "$DAY/$OWNER"',
            env={"DAY": "{{ ds }}", "OWNER": "{{ task.owner }}"},
        )
    assert returned(d, "echo") == "2025-07-02/tradewind"


def test_macros_ds_add() -> None:
    with daily_dag() as d:
        BashOperator(task_id="echo", bash_command="echo {{ macros.ds_add(ds, -1) }}")
    assert returned(d, "echo") == "2025-07-01"


def test_user_defined_macros_and_filters() -> None:
    with daily_dag(user_defined_macros={"team": "data"}, user_defined_filters={"shout": str.upper}) as d:
        BashOperator(task_id="echo", bash_command="echo {{ team | shout }}")
    assert returned(d, "echo") == "DATA"


def test_text_without_template_markers_is_left_alone() -> None:
    with daily_dag() as d:
        BashOperator(task_id="echo", bash_command="echo '{ not a template }'")
    assert returned(d, "echo") == "{ not a template }"


# -- PythonOperator and TaskFlow


def test_python_operator_op_kwargs_and_op_args_are_templated() -> None:
    def join(prefix: str, when: str, who: str) -> str:
        return f"{prefix}:{when}:{who}"

    with daily_dag() as d:
        PythonOperator(
            task_id="py",
            python_callable=join,
            op_args=["{{ dag.dag_id }}"],
            op_kwargs={"when": "{{ ds_nodash }}", "who": "{{ task.task_id }}"},
        )
    assert returned(d, "py") == "tpl:20250702:py"


def test_python_operator_nested_op_kwargs_are_templated() -> None:
    def identity(payload: dict) -> dict:
        return payload

    with daily_dag() as d:
        PythonOperator(
            task_id="py",
            python_callable=identity,
            op_kwargs={"payload": {"days": ["{{ ds }}", "{{ macros.ds_add(ds, 1) }}"], "n": 3}},
        )
    assert returned(d, "py") == {"days": ["2025-07-02", "2025-07-03"], "n": 3}


def test_python_operator_templates_dict() -> None:
    def read(templates_dict: dict) -> str:
        return templates_dict["day"]

    with daily_dag() as d:
        PythonOperator(task_id="py", python_callable=read, templates_dict={"day": "{{ ds }}"})
    assert returned(d, "py") == "2025-07-02"


def test_python_operator_run_conf_through_op_kwargs() -> None:
    def show(conf_text: str) -> str:
        return conf_text

    with daily_dag() as d:
        PythonOperator(task_id="py", python_callable=show, op_kwargs={"conf_text": "{{ dag_run.conf }}"})
    assert returned(d, "py", conf={"a": 1}) == "{'a': 1}"


def test_taskflow_string_argument_is_rendered() -> None:
    @task
    def describe(label: str, day: str) -> str:
        return f"{label} {day}"

    with daily_dag() as d:
        describe("day={{ ds }}", day="{{ data_interval_start | ds }}")
    assert returned(d, "describe") == "day=2025-07-02 2025-07-01"


def test_taskflow_receives_context_values_by_name() -> None:
    @task
    def when(ds: str | None = None, run_id: str | None = None) -> str:
        return f"{ds} {run_id}"

    with daily_dag() as d:
        when()
    assert returned(d, "when") == "2025-07-02 manual__2025-07-02T00:00:00+00:00"


def test_upstream_output_is_data_not_a_template() -> None:
    @task
    def produce() -> str:
        return "{{ ds }}"

    @task
    def consume(text: str) -> str:
        return text

    with daily_dag() as d:
        consume(produce())
    assert returned(d, "consume") == "{{ ds }}"


def test_dag_params_through_dag_decorator_arguments() -> None:
    from tradewind import dag

    @task
    def show(value: int) -> int:
        return value

    @dag(schedule="@daily", start_date=START)
    def with_params(limit: int = 10) -> None:
        show(limit)

    assert returned(with_params(), "show") == 10
    assert returned(with_params(), "show", conf={"limit": 3}) == 3


# -- template files, native rendering, undefined names, xcom_pull


def test_bash_command_ending_in_sh_is_a_template_file(tmp_path: Path) -> None:
    (tmp_path / "report.sh").write_text("echo report for {{ ds }}\n")
    with daily_dag(template_searchpath=str(tmp_path)) as d:
        BashOperator(task_id="echo", bash_command="report.sh")
    assert returned(d, "echo") == "report for 2025-07-02"


def test_render_template_as_native_obj_keeps_python_types() -> None:
    def kinds(n: object, items: object) -> list[str]:
        return [type(n).__name__, type(items).__name__]

    with daily_dag(render_template_as_native_obj=True) as d:
        PythonOperator(task_id="py", python_callable=kinds, op_kwargs={"n": "{{ 1 + 2 }}", "items": "{{ [1, 2] }}"})
    assert returned(d, "py") == ["int", "list"]


def test_undefined_name_in_template_fails_the_task() -> None:
    with daily_dag() as d:
        BashOperator(task_id="echo", bash_command="echo {{ no_such_name }}")
    state = dag_test.test_dag(d, io.StringIO(), logical_date=WHEN)
    (record,) = state.records()
    assert record.state is TaskInstanceState.FAILED
    assert record.error is not None
    assert record.error.type == "UndefinedError"
    assert "no_such_name" in record.error.message


def test_xcom_pull_in_a_template() -> None:
    with daily_dag() as d:
        produce = PythonOperator(task_id="produce", python_callable=lambda: "from-upstream")
        show = BashOperator(task_id="show", bash_command="echo {{ ti.xcom_pull(task_ids='produce') }}")
        produce >> show
    assert returned(d, "show") == "from-upstream"


def test_manual_run_between_schedule_times_covers_the_last_complete_interval() -> None:
    with daily_dag() as d:
        BashOperator(
            task_id="echo", bash_command="echo {{ ds }} {{ data_interval_start | ds }} {{ data_interval_end | ds }}"
        )
    state = dag_test.test_dag(d, io.StringIO(), logical_date=datetime(2025, 7, 2, 10, 30, tzinfo=UTC))
    (record,) = state.records()
    assert record.return_value == "2025-07-02 2025-07-01 2025-07-02"
