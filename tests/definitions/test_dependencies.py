"""Dependencies: ``>>``/``<<``, set_upstream/set_downstream, chain, cross_downstream, task groups, TaskFlow."""

from __future__ import annotations

import pytest

from tradewind import (
    DAG,
    BashOperator,
    DagDefinitionError,
    EmptyOperator,
    PythonOperator,
    TaskGroup,
    chain,
    cross_downstream,
    task,
    task_group,
)


def edges(d: DAG) -> set[tuple[str, str]]:
    return {(t.task_id, down) for t in d.tasks for down in t.downstream_task_ids}


def empties(*ids: str) -> list[EmptyOperator]:
    return [EmptyOperator(task_id=i) for i in ids]


# -- >> and <<


def test_rshift_sets_downstream_and_returns_right_side() -> None:
    with DAG("d") as d:
        a, b, c = empties("a", "b", "c")
        assert (a >> b) is b
        b >> c
    assert edges(d) == {("a", "b"), ("b", "c")}
    assert b.upstream_task_ids == {"a"}
    assert b.downstream_task_ids == {"c"}


def test_lshift_sets_upstream() -> None:
    with DAG("d") as d:
        a, b, c = empties("a", "b", "c")
        c << b << a
    assert edges(d) == {("a", "b"), ("b", "c")}


def test_rshift_with_lists_on_either_side() -> None:
    with DAG("d") as d:
        a, b, c, e, f = empties("a", "b", "c", "e", "f")
        assert ([a, b] >> c) is c
        c >> [e, f]
    assert edges(d) == {("a", "c"), ("b", "c"), ("c", "e"), ("c", "f")}


def test_lshift_with_lists_on_either_side() -> None:
    with DAG("d") as d:
        a, b, c, e, f = empties("a", "b", "c", "e", "f")
        [e, f] << c  # c is upstream of e and f
        c << [a, b]
    assert edges(d) == {("a", "c"), ("b", "c"), ("c", "e"), ("c", "f")}


def test_set_upstream_and_set_downstream() -> None:
    with DAG("d") as d:
        a, b, c, e = empties("a", "b", "c", "e")
        b.set_upstream(a)
        b.set_downstream([c, e])
    assert edges(d) == {("a", "b"), ("b", "c"), ("b", "e")}
    assert [t.task_id for t in b.downstream_list] == ["c", "e"]
    assert [t.task_id for t in b.upstream_list] == ["a"]


def test_dependency_on_a_non_task_is_rejected() -> None:
    with DAG("d"):
        (a,) = empties("a")
        with pytest.raises(DagDefinitionError, match="Cannot set a dependency on 'b' of type str"):
            a >> "b"


# -- chain and cross_downstream


def test_chain_of_single_tasks() -> None:
    with DAG("d") as d:
        a, b, c = empties("a", "b", "c")
        chain(a, b, c)
    assert edges(d) == {("a", "b"), ("b", "c")}


def test_chain_pairs_adjacent_lists_element_by_element() -> None:
    with DAG("d") as d:
        a, b, c, e, f, g = empties("a", "b", "c", "e", "f", "g")
        chain(a, [b, c], [e, f], g)
    assert edges(d) == {("a", "b"), ("a", "c"), ("b", "e"), ("c", "f"), ("e", "g"), ("f", "g")}


def test_chain_rejects_adjacent_lists_of_different_lengths() -> None:
    with DAG("d"):
        a, b, c, e, f = empties("a", "b", "c", "e", "f")
        with pytest.raises(DagDefinitionError, match="different lengths: 2 and 3"):
            chain(a, [b, c], [e, f, a])


def test_chain_accepts_task_outputs_and_groups() -> None:
    @task
    def produce() -> int:
        return 1

    with DAG("d") as d:
        out = produce()
        with TaskGroup("g") as g:
            (inner,) = empties("inner")
        (end,) = empties("end")
        chain(out, g, end)
    assert edges(d) == {("produce", "g.inner"), ("g.inner", "end")}
    assert inner.task_id == "g.inner"


def test_cross_downstream_links_every_pair() -> None:
    with DAG("d") as d:
        a, b, c, e = empties("a", "b", "c", "e")
        cross_downstream([a, b], [c, e])
    assert edges(d) == {("a", "c"), ("a", "e"), ("b", "c"), ("b", "e")}


# -- task groups


def test_task_group_prefixes_task_ids() -> None:
    with DAG("d") as d:
        with TaskGroup("extract") as g:
            t = EmptyOperator(task_id="pull")
    assert t.task_id == "extract.pull"
    assert t.label == "pull"
    assert d.has_task("extract.pull")
    assert g.group_id == "extract"


def test_task_group_without_prefix() -> None:
    with DAG("d"), TaskGroup("g", prefix_group_id=False):
        t = EmptyOperator(task_id="plain")
    assert t.task_id == "plain"


def test_nested_task_groups_prefix_with_every_level() -> None:
    with DAG("d") as d:
        with TaskGroup("outer"):
            with TaskGroup("inner") as inner:
                t = EmptyOperator(task_id="t")
    assert t.task_id == "outer.inner.t"
    assert inner.group_id == "outer.inner"
    assert d.task_ids == ["outer.inner.t"]


def test_duplicate_group_id_is_rejected() -> None:
    with DAG("d"):
        TaskGroup("g")
        with pytest.raises(DagDefinitionError, match="Duplicate group_id 'g'"):
            TaskGroup("g")


def test_start_group_end_links_to_group_roots_and_leaves() -> None:
    with DAG("d") as d:
        start = EmptyOperator(task_id="start")
        with TaskGroup("g") as g:
            first_a, first_b = empties("first_a", "first_b")
            last = EmptyOperator(task_id="last")
            [first_a, first_b] >> last
        end = EmptyOperator(task_id="end")
        start >> g >> end
    assert edges(d) == {
        ("start", "g.first_a"),
        ("start", "g.first_b"),
        ("g.first_a", "g.last"),
        ("g.first_b", "g.last"),
        ("g.last", "end"),
    }


def test_group_to_group_links_leaves_to_roots() -> None:
    with DAG("d") as d:
        with TaskGroup("one") as one:
            a, b = empties("a", "b")
            a >> b
        with TaskGroup("two") as two:
            c, e = empties("c", "e")
            c >> e
        one >> two
    assert ("one.b", "two.c") in edges(d)
    assert ("one.a", "two.c") not in edges(d)
    assert len(edges(d)) == 3


def test_task_group_decorator_called_twice_gets_a_suffix() -> None:
    @task_group
    def section() -> None:
        EmptyOperator(task_id="work")

    with DAG("d") as d:
        first = section()
        second = section()
    assert first.group_id == "section"
    assert second.group_id == "section__1"
    assert d.task_ids == ["section.work", "section__1.work"]


def test_task_group_decorator_group_can_be_chained() -> None:
    @task_group
    def section() -> None:
        EmptyOperator(task_id="work")

    with DAG("d") as d:
        start = EmptyOperator(task_id="start")
        start >> section() >> EmptyOperator(task_id="end")
    assert edges(d) == {("start", "section.work"), ("section.work", "end")}


# -- TaskFlow


def test_taskflow_task_id_is_function_name_then_suffixed() -> None:
    @task
    def fetch() -> int:
        return 1

    with DAG("d") as d:
        fetch()
        fetch()
        fetch()
    assert d.task_ids == ["fetch", "fetch__1", "fetch__2"]


def test_taskflow_task_id_suffix_inside_a_group() -> None:
    @task
    def fetch() -> int:
        return 1

    with DAG("d") as d:
        fetch()
        with TaskGroup("g"):
            fetch()
            fetch()
    assert d.task_ids == ["fetch", "g.fetch", "g.fetch__1"]


def test_passing_an_xcomarg_creates_the_dependency() -> None:
    @task
    def extract() -> list[int]:
        return [1, 2]

    @task
    def load(rows: list[int], *, extra: int = 0) -> None:
        pass

    with DAG("d") as d:
        rows = extract()
        other = extract()
        load(rows, extra=other)
    assert edges(d) == {("extract", "load"), ("extract__1", "load")}


def test_xcomarg_nested_in_a_structure_creates_the_dependency() -> None:
    @task
    def extract() -> int:
        return 1

    @task
    def load(payload: dict) -> None:
        pass

    with DAG("d") as d:
        load({"rows": [extract()]})
    assert edges(d) == {("extract", "load")}


def test_classic_operator_output_feeds_a_taskflow_task() -> None:
    @task
    def consume(value: str) -> None:
        pass

    with DAG("d") as d:
        bash = BashOperator(task_id="bash", bash_command="echo hi")
        consume(bash.output)
    assert bash.output.task_id == "bash"
    assert edges(d) == {("bash", "consume")}


def test_xcomarg_in_classic_operator_templated_field_creates_the_dependency() -> None:
    @task
    def command() -> str:
        return "echo hi"

    with DAG("d") as d:
        BashOperator(task_id="run", bash_command=command())
        PythonOperator(task_id="py", python_callable=print, op_kwargs={"x": command()})
    assert edges(d) == {("command", "run"), ("command__1", "py")}


def test_xcomarg_cannot_be_iterated_at_definition_time() -> None:
    @task
    def items() -> list[int]:
        return [1]

    with DAG("d"):
        out = items()
        with pytest.raises(TypeError, match="output of task 'items' is not known until the task runs"):
            list(out)
