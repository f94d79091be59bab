"""DAG construction and validation: ids, schedules, dates, duplicates, cycles, ``@dag``, default_args."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pendulum
import pytest

from tradewind import DAG, BashOperator, DagDefinitionError, EmptyOperator, TaskGroup, dag, task

START = datetime(2025, 1, 1)


# -- ids


@pytest.mark.parametrize("bad_id", ["has space", "semi;colon", "slash/id", "star*", "new\nline", "trailing_newline\n"])
def test_dag_id_with_invalid_characters_is_rejected(bad_id: str) -> None:
    with pytest.raises(DagDefinitionError, match="dag_id .* is invalid: use only letters, digits"):
        DAG(bad_id)


def test_empty_dag_id_is_rejected() -> None:
    with pytest.raises(DagDefinitionError, match="dag_id must be a non-empty string"):
        DAG("")


def test_too_long_dag_id_is_rejected() -> None:
    with pytest.raises(DagDefinitionError, match="longer than 250 characters"):
        DAG("a" * 251)


@pytest.mark.parametrize("good_id", ["etl", "ETL_v2", "my-dag.daily", "0_starts_with_digit"])
def test_valid_dag_ids_are_accepted(good_id: str) -> None:
    assert DAG(good_id).dag_id == good_id


@pytest.mark.parametrize("bad_id", ["bad id", "a/b", "x:y"])
def test_task_id_with_invalid_characters_is_rejected(bad_id: str) -> None:
    with DAG("d"), pytest.raises(DagDefinitionError, match="task_id .* is invalid"):
        EmptyOperator(task_id=bad_id)


def test_empty_task_id_is_rejected() -> None:
    with DAG("d"), pytest.raises(DagDefinitionError, match="task_id must be a non-empty string"):
        EmptyOperator(task_id="")


def test_group_id_with_invalid_characters_is_rejected() -> None:
    with DAG("d"), pytest.raises(DagDefinitionError, match="group_id 'my group' is invalid"):
        TaskGroup("my group")


# -- schedule


def test_schedule_interval_is_an_alias_of_schedule() -> None:
    old = DAG("old", schedule_interval="@daily", start_date=START)
    new = DAG("new", schedule="@daily", start_date=START)
    assert old.schedule == new.schedule == "@daily"
    assert old.timetable.infer_manual_data_interval(datetime(2025, 7, 2, tzinfo=UTC)) == (
        new.timetable.infer_manual_data_interval(datetime(2025, 7, 2, tzinfo=UTC))
    )


def test_schedule_and_schedule_interval_together_are_rejected() -> None:
    with pytest.raises(DagDefinitionError, match="pass schedule or schedule_interval, not both"):
        DAG("d", schedule="@daily", schedule_interval="@daily")


def test_schedule_none_and_schedule_interval_together_are_rejected() -> None:
    with pytest.raises(DagDefinitionError, match="not both"):
        DAG("d", schedule=None, schedule_interval=timedelta(hours=1))


def test_schedule_defaults_to_none() -> None:
    assert DAG("d").timetable.periodic is False


@pytest.mark.parametrize("schedule", ["@daily", "@hourly", "*/5 * * * *", "@once", None, timedelta(hours=6)])
def test_valid_schedules_are_accepted(schedule: object) -> None:
    DAG("d", schedule=schedule, start_date=START)


@pytest.mark.parametrize("schedule", ["every day", "@fortnightly", "61 * * * *", "* * *"])
def test_invalid_schedule_string_is_a_definition_error(schedule: str) -> None:
    with pytest.raises(DagDefinitionError, match="Invalid schedule"):
        DAG("d", schedule=schedule, start_date=START)


def test_schedule_of_wrong_type_is_a_definition_error() -> None:
    with pytest.raises(DagDefinitionError, match="Invalid schedule 5 of type int"):
        DAG("d", schedule=5)


def test_non_positive_timedelta_schedule_is_rejected() -> None:
    with pytest.raises(DagDefinitionError, match="must be positive"):
        DAG("d", schedule=timedelta(0))


# -- dates


def test_naive_start_date_becomes_utc() -> None:
    d = DAG("d", start_date=datetime(2025, 1, 1, 6, 30))
    assert d.start_date == datetime(2025, 1, 1, 6, 30, tzinfo=UTC)
    assert d.start_date.utcoffset() == timedelta(0)


def test_aware_start_date_keeps_its_zone() -> None:
    start = pendulum.datetime(2025, 1, 1, tz="Europe/Paris")
    d = DAG("d", start_date=start)
    assert d.start_date == start
    assert d.start_date.utcoffset() == timedelta(hours=1)


def test_start_date_from_default_args_becomes_utc() -> None:
    d = DAG("d", default_args={"start_date": datetime(2025, 3, 1)})
    assert d.start_date == datetime(2025, 3, 1, tzinfo=UTC)


def test_start_date_must_be_a_datetime() -> None:
    with pytest.raises(DagDefinitionError, match="start_date must be a datetime"):
        DAG("d", start_date="2025-01-01")  # type: ignore[arg-type]


def test_end_date_before_start_date_is_rejected() -> None:
    with pytest.raises(DagDefinitionError, match="end_date .* is before start_date"):
        DAG("d", start_date=datetime(2025, 2, 1), end_date=datetime(2025, 1, 1))


# -- tasks: duplicates, cycles


def test_duplicate_task_id_names_the_task() -> None:
    with DAG("d"):
        EmptyOperator(task_id="extract")
        with pytest.raises(DagDefinitionError, match="Duplicate task_id 'extract' in DAG 'd'"):
            EmptyOperator(task_id="extract")


def test_duplicate_task_id_inside_a_group_names_the_full_id() -> None:
    with DAG("d"), TaskGroup("g"):
        EmptyOperator(task_id="t")
        with pytest.raises(DagDefinitionError, match=r"Duplicate task_id 'g\.t'"):
            EmptyOperator(task_id="t")


def test_validate_detects_a_cycle_and_names_its_tasks() -> None:
    with DAG("d") as d:
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
        c = EmptyOperator(task_id="c")
        a >> b >> c >> a
    with pytest.raises(DagDefinitionError, match=r"Cycle detected in DAG 'd': a >> b >> c >> a"):
        d.validate()


def test_topological_sort_detects_a_cycle_and_names_its_tasks() -> None:
    with DAG("d") as d:
        start = EmptyOperator(task_id="start")
        x = EmptyOperator(task_id="x")
        y = EmptyOperator(task_id="y")
        start >> x >> y >> x
    with pytest.raises(DagDefinitionError, match=r"Cycle detected in DAG 'd': x >> y >> x") as info:
        d.topological_sort()
    assert "start" not in str(info.value)


def test_topological_sort_orders_upstream_before_downstream() -> None:
    with DAG("d") as d:
        a, b, c, e = (EmptyOperator(task_id=i) for i in "abce")
        e << c << [a, b]
    order = [t.task_id for t in d.topological_sort()]
    assert order.index("a") < order.index("c") < order.index("e")
    assert order.index("b") < order.index("c")
    d.validate()  # no error on an acyclic DAG


def test_self_dependency_is_rejected() -> None:
    with DAG("d"):
        a = EmptyOperator(task_id="a")
        with pytest.raises(DagDefinitionError, match="Task 'a' cannot depend on itself"):
            a >> a


def test_dependency_between_two_dags_is_rejected() -> None:
    with DAG("one"):
        a = EmptyOperator(task_id="a")
    with DAG("two"):
        b = EmptyOperator(task_id="b")
    with pytest.raises(DagDefinitionError, match="tasks must be in the same DAG"):
        a >> b


# -- @dag


def test_dag_decorator_takes_dag_id_from_function_name() -> None:
    @dag(start_date=START, schedule="@daily")
    def my_pipeline() -> None:
        EmptyOperator(task_id="only")

    built = my_pipeline()
    assert isinstance(built, DAG)
    assert built.dag_id == "my_pipeline"
    assert built.task_ids == ["only"]


def test_dag_decorator_without_parentheses() -> None:
    @dag
    def bare() -> None:
        EmptyOperator(task_id="t")

    assert bare().dag_id == "bare"


def test_dag_decorator_explicit_dag_id_wins() -> None:
    @dag("explicit_id", start_date=START)
    def ignored_name() -> None:
        pass

    assert ignored_name().dag_id == "explicit_id"


def test_dag_decorator_function_arguments_become_params() -> None:
    @dag(start_date=START)
    def pipeline(limit: int = 10, source: str = "s3") -> None:
        pass

    assert pipeline().params == {"limit": 10, "source": "s3"}
    assert pipeline(limit=5).params == {"limit": 5, "source": "s3"}


def test_dag_decorator_docstring_becomes_doc_md() -> None:
    @dag(start_date=START)
    def documented() -> None:
        """Loads the warehouse every night."""

    assert documented().doc_md == "Loads the warehouse every night."


def test_dag_decorator_explicit_doc_md_wins_over_docstring() -> None:
    @dag(start_date=START, doc_md="explicit")
    def documented() -> None:
        """From the docstring."""

    assert documented().doc_md == "explicit"


# -- default_args


def test_default_args_apply_to_operators() -> None:
    args = {"retries": 3, "retry_delay": timedelta(minutes=1), "owner": "data", "pool": "etl"}
    with DAG("d", default_args=args):
        t = EmptyOperator(task_id="t")
    assert (t.retries, t.retry_delay, t.owner, t.pool) == (3, timedelta(minutes=1), "data", "etl")


def test_default_args_apply_to_taskflow_tasks() -> None:
    @task
    def work() -> None:
        pass

    with DAG("d", default_args={"retries": 2}) as d:
        work()
    assert d.get_task("work").retries == 2


def test_explicit_operator_arguments_win_over_default_args() -> None:
    with DAG("d", default_args={"retries": 3, "owner": "data"}):
        t = BashOperator(task_id="t", bash_command="true", retries=0)
    assert t.retries == 0
    assert t.owner == "data"


def test_unknown_default_args_are_ignored() -> None:
    with DAG("d", default_args={"not_an_argument": 1, "retries": 1}):
        t = EmptyOperator(task_id="t")
    assert t.retries == 1


def test_task_group_default_args_win_over_dag_default_args() -> None:
    with DAG("d", default_args={"retries": 1, "owner": "dag_owner"}):
        outside = EmptyOperator(task_id="outside")
        with TaskGroup("g", default_args={"retries": 4}):
            inside = EmptyOperator(task_id="inside")
            explicit = EmptyOperator(task_id="explicit", retries=7)
    assert outside.retries == 1
    assert (inside.retries, inside.owner) == (4, "dag_owner")
    assert explicit.retries == 7


def test_inner_task_group_default_args_win_over_outer_group() -> None:
    with DAG("d", default_args={"retries": 1}):
        with TaskGroup("outer", default_args={"retries": 2, "pool": "outer_pool"}):
            with TaskGroup("inner", default_args={"retries": 3}):
                t = EmptyOperator(task_id="t")
    assert (t.retries, t.pool) == (3, "outer_pool")


def test_invalid_value_in_default_args_is_reported_for_the_task() -> None:
    with DAG("d", default_args={"retries": -1}), pytest.raises(DagDefinitionError, match="Task 't': retries"):
        EmptyOperator(task_id="t")
