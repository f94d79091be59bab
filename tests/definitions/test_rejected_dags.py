"""The catalogue of mapping mistakes that must be rejected when the DAG is defined, each with
the exact message the DAG author sees (also as an import error, through the loader)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tradewind import DAG, BashOperator, task, task_group
from tradewind.errors import MappingError
from tradewind.loader import load_dags


@task
def process(item, other=None):
    return item


@task
def needs_two(item, other):
    return item


@task(multiple_outputs=True)
def produce():
    return {"items": [1]}


def unknown_argument() -> None:
    process.expand(file=["a"])


def argument_in_partial_and_expand() -> None:
    process.partial(item=1).expand(item=[1, 2])


def positional_argument() -> None:
    process.expand([1, 2])


def no_argument() -> None:
    process.expand()


def literal_int() -> None:
    process.expand(item=5)


def literal_string() -> None:
    process.expand(item="abc")


def literal_none() -> None:
    process.expand(item=None)


def missing_required_argument() -> None:
    needs_two.expand(item=[1])


def task_id_as_taskflow_argument() -> None:
    process.expand(task_id=["a", "b"])


def custom_xcom_key() -> None:
    process.expand(item=produce()["items"])


def classic_maps_task_id() -> None:
    BashOperator.partial(task_id="b").expand(task_id=["x", "y"])


def classic_unknown_argument() -> None:
    BashOperator.partial(task_id="b").expand(bash_cmd=["echo 1"])


def classic_partial_unknown_argument() -> None:
    BashOperator.partial(task_id="b", bash_cmd="echo")


def classic_partial_without_task_id() -> None:
    BashOperator.partial(env={}).expand(bash_command=["echo 1"])


def classic_argument_in_partial_and_expand() -> None:
    BashOperator.partial(task_id="b", env={}).expand(env=[{}], bash_command=["echo"])


def expand_kwargs_not_a_list() -> None:
    process.expand_kwargs({"item": 1})


def expand_kwargs_item_not_a_dict() -> None:
    process.expand_kwargs(["item"])


def expand_kwargs_unknown_key() -> None:
    process.expand_kwargs([{"items": 1}])


def group_unknown_argument() -> None:
    @task_group
    def per_item(item):
        process(item)

    per_item.expand(items=[1, 2])


def nested_mapped_groups() -> None:
    @task_group
    def inner(item):
        process(item)

    @task_group
    def outer(item):
        inner.expand(item=[1, 2])

    outer.expand(item=[1, 2])


CASES: list[tuple[Callable[[], None], str]] = [
    (unknown_argument, "process.expand() got an unexpected keyword argument 'file'"),
    (argument_in_partial_and_expand, "process.expand() got an argument 'item' that was already given to partial()"),
    (positional_argument, "process.expand() takes keyword arguments only, got 1 positional"),
    (no_argument, "process.expand() needs at least one keyword argument to map over"),
    (
        literal_int,
        "process.expand() got an unexpected type 'int' for keyword argument 'item': "
        "pass a list, tuple or dict (or a task's output)",
    ),
    (
        literal_string,
        "process.expand() got an unexpected type 'str' for keyword argument 'item': "
        "pass a list, tuple or dict (or a task's output)",
    ),
    (
        literal_none,
        "process.expand() got an unexpected type 'NoneType' for keyword argument 'item': "
        "pass a list, tuple or dict (or a task's output)",
    ),
    (missing_required_argument, "needs_two.expand() is missing required argument(s): other"),
    (task_id_as_taskflow_argument, "process.expand() got an unexpected keyword argument 'task_id'"),
    (
        custom_xcom_key,
        "process.expand() cannot map over XCom with custom key 'items' from task 'produce'; "
        "map over its return value instead",
    ),
    (classic_maps_task_id, "BashOperator.expand() cannot map over 'task_id': it must be the same for every instance"),
    (classic_unknown_argument, "BashOperator.expand() got an unexpected keyword argument 'bash_cmd'"),
    (classic_partial_unknown_argument, "BashOperator.partial() got an unexpected keyword argument 'bash_cmd'"),
    (classic_partial_without_task_id, "BashOperator.partial() requires a task_id"),
    (
        classic_argument_in_partial_and_expand,
        "BashOperator.expand() got an argument 'env' that was already given to partial()",
    ),
    (expand_kwargs_not_a_list, "process.expand_kwargs() takes a list of dicts or a task's output, got 'dict'"),
    (expand_kwargs_item_not_a_dict, "process.expand_kwargs() takes a list of dicts, got an item of type 'str'"),
    (expand_kwargs_unknown_key, "process.expand_kwargs() got an unexpected keyword argument 'items'"),
    (group_unknown_argument, "per_item.expand() got an unexpected keyword argument 'items'"),
    (
        nested_mapped_groups,
        "Mapped task group 'outer.inner' is inside another mapped task group; nesting is not supported",
    ),
]


@pytest.mark.parametrize(("build", "message"), CASES, ids=[build.__name__ for build, _ in CASES])
def test_mistake_is_rejected_with_exact_message(build: Callable[[], None], message: str) -> None:
    with pytest.raises(MappingError) as caught, DAG("rejected"):
        build()
    assert str(caught.value) == message


def test_trigger_rule_always_over_an_upstream_output_is_rejected_when_the_dag_is_validated() -> None:
    with DAG("rejected") as dag:
        process.override(trigger_rule="always").expand(item=produce())
    with pytest.raises(MappingError) as caught:
        dag.validate()
    assert str(caught.value) == (
        "Task 'process' maps over an upstream task's output, so it cannot use trigger_rule='always' "
        "(it would run before that output exists)"
    )


def test_mapping_inside_a_mapped_group_is_rejected_when_the_dag_is_validated() -> None:
    with DAG("rejected") as dag:

        @task_group
        def per_item(item):
            process.expand(item=[item])

        per_item.expand(item=[1, 2])
    with pytest.raises(MappingError) as caught:
        dag.validate()
    assert str(caught.value) == (
        "Task 'per_item.process' is mapped inside the mapped task group 'per_item'; "
        "mapping inside a mapped task group is not supported"
    )


def test_the_loader_reports_a_rejected_mapping_as_an_import_error_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "bad_mapping.py").write_text(
        textwrap.dedent(
            """
            from datetime import datetime
            from airflow.decorators import dag, task

            @dag(start_date=datetime(2025, 1, 1))
            def bad_mapping():
                @task
                def process(item):
                    return item

                process.expand(file=["a.csv"])

            bad_mapping()
            """
        )
    )
    bag = load_dags(tmp_path)
    error = bag.import_errors[str(tmp_path / "bad_mapping.py")].error
    assert error == "MappingError: process.expand() got an unexpected keyword argument 'file' (line 11)"
