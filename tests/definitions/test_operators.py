"""Operators: argument checking, retries, trigger rules, Bash/Python construction, mapping errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradewind import (
    DAG,
    BaseOperator,
    BashOperator,
    DagDefinitionError,
    EmptyOperator,
    MappingError,
    PythonOperator,
    TriggerRule,
    task,
)
from tradewind.definitions import MappedOperator

# -- BaseOperator arguments


def test_unknown_keyword_argument_is_reported_with_operator_and_task() -> None:
    with (
        DAG("d"),
        pytest.raises(
            DagDefinitionError, match=r"Invalid arguments were passed to BashOperator \(task_id: t\): bogus, colour"
        ),
    ):
        BashOperator(task_id="t", bash_command="true", colour="red", bogus=1)


def test_unknown_keyword_argument_on_base_operator_subclass() -> None:
    class Custom(BaseOperator):
        def execute(self, context: dict) -> None:
            pass

    with DAG("d"), pytest.raises(DagDefinitionError, match=r"passed to Custom \(task_id: c\): nope"):
        Custom(task_id="c", nope=True)


def test_base_defaults() -> None:
    with DAG("d"):
        t = EmptyOperator(task_id="t")
    assert t.retries == 0
    assert t.retry_delay == timedelta(seconds=300)
    assert t.trigger_rule is TriggerRule.ALL_SUCCESS
    assert t.pool == "default_pool"
    assert t.params == {}


@pytest.mark.parametrize("retries", [0, 1, 5])
def test_retries_accepts_whole_numbers(retries: int) -> None:
    with DAG("d"):
        assert EmptyOperator(task_id="t", retries=retries).retries == retries


def test_retries_none_means_zero() -> None:
    with DAG("d"):
        assert EmptyOperator(task_id="t", retries=None).retries == 0


@pytest.mark.parametrize("retries", [-1, "many"])
def test_retries_rejects_invalid_values(retries: object) -> None:
    with DAG("d"), pytest.raises(DagDefinitionError, match="Task 't': retries must be a whole number >= 0"):
        EmptyOperator(task_id="t", retries=retries)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(30, timedelta(seconds=30)), (1.5, timedelta(seconds=1.5)), (timedelta(minutes=2), timedelta(minutes=2))],
)
def test_retry_delay_accepts_timedelta_or_seconds(value: object, expected: timedelta) -> None:
    with DAG("d"):
        assert EmptyOperator(task_id="t", retry_delay=value).retry_delay == expected


@pytest.mark.parametrize("name", ["retry_delay", "max_retry_delay", "execution_timeout"])
def test_durations_reject_non_numbers(name: str) -> None:
    with (
        DAG("d"),
        pytest.raises(
            DagDefinitionError,
            match=f"Task 't': {name} must be a datetime.timedelta or a number of seconds, got 'soon'",
        ),
    ):
        EmptyOperator(task_id="t", **{name: "soon"})


def test_execution_timeout_in_seconds() -> None:
    with DAG("d"):
        assert EmptyOperator(task_id="t", execution_timeout=60).execution_timeout == timedelta(minutes=1)


@pytest.mark.parametrize("slots", [0, -2])
def test_pool_slots_must_be_positive_integer(slots: object) -> None:
    with DAG("d"), pytest.raises(DagDefinitionError, match="pool_slots must be a whole number >= 1"):
        EmptyOperator(task_id="t", pool_slots=slots)


# -- trigger rules


@pytest.mark.parametrize("rule", list(TriggerRule))
def test_trigger_rule_accepts_enum_and_string(rule: TriggerRule) -> None:
    with DAG("d"):
        by_enum = EmptyOperator(task_id="by_enum", trigger_rule=rule)
        by_string = EmptyOperator(task_id="by_string", trigger_rule=rule.value)
    assert by_enum.trigger_rule is rule
    assert by_string.trigger_rule is rule


def test_unknown_trigger_rule_lists_valid_ones() -> None:
    with DAG("d"), pytest.raises(DagDefinitionError, match="Unknown trigger_rule 'all_sucess'; use one of: ") as info:
        EmptyOperator(task_id="t", trigger_rule="all_sucess")
    for rule in TriggerRule:
        assert rule.value in str(info.value)


def test_trigger_rule_from_default_args_is_parsed() -> None:
    with DAG("d", default_args={"trigger_rule": "all_done"}):
        t = EmptyOperator(task_id="t")
    assert t.trigger_rule is TriggerRule.ALL_DONE


# -- BashOperator / PythonOperator


def test_bash_operator_construction() -> None:
    with DAG("d") as d:
        op = BashOperator(task_id="b", bash_command="echo hi", env={"A": "1"}, cwd="/tmp", skip_on_exit_code=[3, 4])
    assert d.get_task("b") is op
    assert op.bash_command == "echo hi"
    assert op.env == {"A": "1"}
    assert op.cwd == "/tmp"
    assert op.skip_on_exit_code == [3, 4]
    assert set(op.template_fields) >= {"bash_command", "env", "cwd"}


@pytest.mark.parametrize(("given", "expected"), [(None, []), (99, [99]), ([1, 2], [1, 2])])
def test_bash_operator_skip_on_exit_code_forms(given: object, expected: list[int]) -> None:
    with DAG("d"):
        assert BashOperator(task_id="b", bash_command="true", skip_on_exit_code=given).skip_on_exit_code == expected


def test_bash_operator_requires_bash_command() -> None:
    with DAG("d"), pytest.raises(TypeError, match="bash_command"):
        BashOperator(task_id="b")  # type: ignore[call-arg]


def test_python_operator_construction() -> None:
    def fn(a: int, b: int = 0) -> int:
        return a + b

    with DAG("d"):
        op = PythonOperator(task_id="p", python_callable=fn, op_args=(1,), op_kwargs={"b": 2})
    assert op.python_callable is fn
    assert op.op_args == [1]
    assert op.op_kwargs == {"b": 2}
    assert set(op.template_fields) >= {"op_args", "op_kwargs", "templates_dict"}


def test_python_operator_rejects_non_callable() -> None:
    with DAG("d"), pytest.raises(DagDefinitionError, match="Task 'p': python_callable must be callable, got 'fn'"):
        PythonOperator(task_id="p", python_callable="fn")


def test_taskflow_task_is_a_python_operator() -> None:
    @task(retries=2)
    def add(a: int, b: int) -> int:
        return a + b

    with DAG("d") as d:
        add(1, b=2)
    op = d.get_task("add")
    assert isinstance(op, PythonOperator)
    assert op.retries == 2
    assert (op.op_args, op.op_kwargs) == ([1], {"b": 2})


def test_taskflow_call_with_wrong_arguments_is_a_type_error() -> None:
    @task
    def add(a: int, b: int) -> int:
        return a + b

    with DAG("d"), pytest.raises(TypeError, match=r"add\(\): missing a required argument: 'b'"):
        add(1)


# -- classic mapping


def test_partial_with_unknown_argument_is_a_mapping_error() -> None:
    with (
        DAG("d"),
        pytest.raises(MappingError, match="BashOperator.partial\\(\\) got an unexpected keyword argument 'bogus'"),
    ):
        BashOperator.partial(task_id="b", bogus=1)


def test_partial_requires_a_task_id() -> None:
    with DAG("d"), pytest.raises(MappingError, match=r"BashOperator.partial\(\) requires a task_id"):
        BashOperator.partial(retries=1)


def test_partial_expand_builds_a_mapped_operator() -> None:
    with DAG("d") as d:
        mapped = BashOperator.partial(task_id="b", retries=1).expand(bash_command=["echo 1", "echo 2"])
    assert isinstance(mapped, MappedOperator)
    assert d.get_task("b") is mapped
    assert mapped.retries == 1


def test_operator_expand_rejects_unmappable_and_duplicate_arguments() -> None:
    with DAG("d"):
        with pytest.raises(MappingError, match=r"BashOperator.expand\(\) cannot map over 'task_id'"):
            BashOperator.partial(task_id="a").expand(task_id=["x"])
        with pytest.raises(MappingError, match="got an argument 'env' that was already given to partial"):
            BashOperator.partial(task_id="b", env={}).expand(env=[{}])
        with pytest.raises(MappingError, match=r"got an unexpected type 'int' for keyword argument 'bash_command'"):
            BashOperator.partial(task_id="c").expand(bash_command=5)


# -- @task .expand() errors at definition time


@task
def double(x: int, y: int) -> int:
    return x * y


def test_taskflow_expand_rejects_positional_arguments() -> None:
    with (
        DAG("d"),
        pytest.raises(MappingError, match=r"^double\.expand\(\) takes keyword arguments only, got 1 positional$"),
    ):
        double.expand([1, 2])


def test_taskflow_expand_requires_an_argument() -> None:
    with DAG("d"), pytest.raises(MappingError, match=r"^double\.expand\(\) needs at least one keyword argument"):
        double.expand()


def test_taskflow_expand_rejects_unknown_argument() -> None:
    with DAG("d"), pytest.raises(MappingError, match=r"^double\.expand\(\) got an unexpected keyword argument 'z'$"):
        double.partial(y=1).expand(z=[1])


def test_taskflow_expand_rejects_argument_already_given_to_partial() -> None:
    with (
        DAG("d"),
        pytest.raises(
            MappingError, match=r"^double\.expand\(\) got an argument 'y' that was already given to partial\(\)$"
        ),
    ):
        double.partial(y=2).expand(x=[1], y=[3])


@pytest.mark.parametrize(("value", "type_name"), [(5, "int"), ("abc", "str"), (None, "NoneType")])
def test_taskflow_expand_rejects_literal_non_list(value: object, type_name: str) -> None:
    message = (
        rf"^double\.expand\(\) got an unexpected type '{type_name}' for keyword argument 'x': "
        r"pass a list, tuple or dict \(or a task's output\)$"
    )
    with DAG("d"), pytest.raises(MappingError, match=message):
        double.partial(y=1).expand(x=value)


def test_taskflow_expand_reports_missing_required_argument() -> None:
    with DAG("d"), pytest.raises(MappingError, match=r"^double\.expand\(\) is missing required argument\(s\): y$"):
        double.expand(x=[1, 2])


def test_taskflow_partial_rejects_positional_and_unknown_arguments() -> None:
    with pytest.raises(MappingError, match=r"^double\.partial\(\) takes keyword arguments only, got 1 positional$"):
        double.partial(1)
    with pytest.raises(MappingError, match=r"^double\.partial\(\) got an unexpected keyword argument 'task_id'$"):
        double.partial(task_id="x")


def test_taskflow_expand_rejects_xcom_with_custom_key() -> None:
    @task(multiple_outputs=True)
    def split() -> dict[str, list[int]]:
        return {"xs": [1]}

    with DAG("d"), pytest.raises(MappingError, match="cannot map over XCom with custom key 'xs' from task 'split'"):
        double.partial(y=1).expand(x=split()["xs"])


def test_mapping_errors_are_definition_errors() -> None:
    assert issubclass(MappingError, DagDefinitionError)


def test_taskflow_expand_accepts_lists_tuples_dicts_and_outputs() -> None:
    @task
    def numbers() -> list[int]:
        return [1, 2]

    with DAG("d") as d:
        double.partial(y=1).expand(x=[1, 2])
        double.partial(y=1).expand(x=(1, 2))
        double.partial(y=1).expand(x={"a": 1})
        double.expand(x=numbers(), y=[1])
    assert all(d.get_task(t).is_mapped for t in ["double", "double__1", "double__2", "double__3"])
    assert d.get_task("double__3").upstream_task_ids == {"numbers"}
