"""Templates inside task functions, as Airflow's tutorial_taskflow_templates uses them: context
keys as optional parameters, template files next to the DAG file, ``task.render_template``."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tradewind import DAG, task
from tradewind.definitions.current_context import get_current_context
from tradewind.errors import TradewindError
from tradewind.scheduler.dag_test import test_dag as run_dag_test

WHEN = datetime(2025, 7, 2, tzinfo=UTC)


def returned(dag: DAG) -> dict[str, Any]:
    log = io.StringIO()
    state = run_dag_test(dag, log, logical_date=WHEN)
    out = {}
    for record in state.records():
        assert str(record.state) == "success", f"{record.task_id}: {record.error}\n{log.getvalue()}"
        out[record.task_id] = record.return_value
    return out


def test_a_context_key_parameter_need_not_be_passed(tmp_path: Path) -> None:
    (tmp_path / "q.sql").write_text("select '{{ ds }}', '{{ params.who }}'")
    dag = DAG("ctx", start_date=datetime(2025, 1, 1), schedule=None, params={"who": "dag"})
    dag.fileloc = str(tmp_path / "ctx.py")  # template files are looked up next to the DAG file
    with dag:

        @task(templates_exts=[".sql"])
        def report(sql: str, test_var: str, data_interval_end: Any, ti: Any) -> list[Any]:
            return [sql, test_var, data_interval_end.isoformat(), ti.task_id]

        report.override(params={"who": "task"})(sql="q.sql", test_var="{{ run_id }}")

    [sql, test_var, end, task_id] = returned(dag)["report"]
    assert sql == "select '2025-07-02', 'task'"
    assert test_var.startswith("manual__2025-07-02")
    assert (end, task_id) == ("2025-07-02T00:00:00+00:00", "report")


def test_task_render_template_with_the_context() -> None:
    with DAG("rt", start_date=datetime(2025, 1, 1), schedule=None, params={"p": "v"}) as dag:

        @task
        def show() -> Any:
            context = get_current_context()
            return context["task"].render_template(["{{ ds }} {{ params.p }}", {"k": "{{ ds_nodash }}"}, 3], context)

        show()

    assert returned(dag)["show"] == ["2025-07-02 v", {"k": "20250702"}, 3]


def test_render_template_outside_a_running_task_says_when_it_works() -> None:
    import tradewind.definitions.templater as templater

    saved = list(templater._renderer)
    templater._renderer.clear()
    try:
        with DAG("rt2", start_date=datetime(2025, 1, 1), schedule=None):

            @task
            def t() -> None:
                return None

            op = t().operator
        with pytest.raises(TradewindError, match="templates are rendered only while a task runs"):
            op.render_template("{{ ds }}", {})
    finally:
        templater._renderer[:] = saved


def test_template_undefined_of_the_dag_is_used() -> None:
    import jinja2

    with DAG("lenient", start_date=datetime(2025, 1, 1), schedule=None, template_undefined=jinja2.Undefined) as dag:

        @task
        def show(text: str) -> str:
            return text

        show("[{{ not_defined }}]")

    assert returned(dag)["show"] == "[]"


def test_jinja_do_statements_work_as_in_airflow() -> None:
    with DAG("do", start_date=datetime(2025, 1, 1), schedule=None) as dag:

        @task
        def show(text: str) -> str:
            return text

        show(
            "{% set items = [] %}{% do items.append(ds_nodash) %}{{ items[0] }}|{{ logical_date | ts_nodash_with_tz }}"
        )

    assert returned(dag)["show"] == "20250702|20250702T000000+0000"
