"""The pure checks of a dag-factory config (loader/dagfactory/schema.py), as tables."""

from __future__ import annotations

from typing import Any

import pytest

from tradewind.loader.dagfactory.schema import ConfigProblem, check_groups, check_tasks, reference, tasks_as_dict

EMPTY = {"operator": "airflow.operators.empty.EmptyOperator"}


@pytest.mark.parametrize(
    ("value", "outputs", "expected"),
    [
        ("+extract", False, ("extract", None)),
        ("+extract['rows']", False, ("extract", "rows")),
        ('+extract["rows"]', False, ("extract", "rows")),
        ("extract.output", True, ("extract", None)),
        ("XComArg(extract)", True, ("extract", None)),
        ("extract.output", False, None),  # only expand/partial values of operators read this form
        ("echo +extract", True, None),
        ("cat result.output.txt", True, None),
        (3, True, None),
    ],
)
def test_references(value: Any, outputs: bool, expected: Any) -> None:
    assert reference(value, outputs=outputs) == expected


@pytest.mark.parametrize(
    ("tasks", "order"),
    [
        ({"a": EMPTY, "b": {**EMPTY, "dependencies": ["a"]}}, ["a", "b"]),
        ({"b": {**EMPTY, "dependencies": ["a"]}, "a": EMPTY}, ["a", "b"]),
        # a reference orders too, as a dependency does
        ({"use": {"decorator": "airflow.sdk.task", "x": "+make"}, "make": {"decorator": "airflow.sdk.task"}},
         ["make", "use"]),
    ],
)  # fmt: skip
def test_tasks_come_after_what_they_depend_on(tasks: dict[str, Any], order: list[str]) -> None:
    assert check_tasks(tasks, {}) == order


@pytest.mark.parametrize(
    ("tasks", "key", "problem"),
    [
        ({"a": {**EMPTY, "dependencies": ["a"]}}, ("tasks", "a", "dependencies"), "dependency cycle a -> a"),
        ({"a": {}}, ("tasks", "a"), "a task needs either `operator` or `decorator`"),
        ({"a": {**EMPTY, "decorator": "x"}}, ("tasks", "a"), "a task needs either `operator` or `decorator`"),
        ({"a": {**EMPTY, "dependencies": "b"}}, ("tasks", "a", "dependencies"),
         "must be a list of task names, not a string"),
        ({"a": {**EMPTY, "expand": {"x": 1}}}, ("tasks", "a", "expand", "x"), "cannot map over int 1"),
        ({"a": {**EMPTY, "expand": [1]}}, ("tasks", "a", "expand"),
         "must be a mapping of argument names to values, not a list"),
    ],
)  # fmt: skip
def test_task_problems_name_their_key(tasks: dict[str, Any], key: tuple[Any, ...], problem: str) -> None:
    with pytest.raises(ConfigProblem) as caught:
        check_tasks(tasks, {})
    assert (caught.value.key, caught.value.problem) == (key, problem)


def test_tasks_as_a_list_need_unique_task_ids() -> None:
    assert tasks_as_dict([{"task_id": "a", **EMPTY}]) == {"a": EMPTY}
    with pytest.raises(ConfigProblem, match="task `a` is defined twice") as caught:
        tasks_as_dict([{"task_id": "a"}, {"task_id": "a"}])
    assert caught.value.key == ("tasks", 1)


def test_groups_come_parent_first_and_a_loop_is_refused() -> None:
    assert check_groups({"child": {"parent_group_name": "parent"}, "parent": {}}) == ["parent", "child"]
    with pytest.raises(ConfigProblem, match="task groups nest in a loop: x -> y -> x"):
        check_groups({"x": {"parent_group_name": "y"}, "y": {"parent_group_name": "x"}})
