"""A file that makes many DAGs in a loop (the "DAG factory"): every DAG found once and whole;
and the shortcuts that make such a file fast change nothing a DAG author can see."""

from __future__ import annotations

import gc
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tradewind import DAG, BaseOperator, EmptyOperator, task
from tradewind.definitions import _context
from tradewind.definitions.timetables import CronDataIntervalTimetable
from tradewind.errors import DagDefinitionError
from tradewind.loader import load_dags
from tradewind.loader.dagbag import import_dag_file

FACTORY = """
from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator
for i in range({k}):
    with DAG(f"client_{{i}}", schedule="@daily", start_date=datetime(2025, 1, 1), catchup=False) as dag:
        a = EmptyOperator(task_id="a"); b = EmptyOperator(task_id="b"); c = EmptyOperator(task_id="c")
        a >> b >> c
    globals()[f"client_{{i}}"] = dag
"""


def write(tmp_path: Path, source: str, name: str = "dags.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def test_factory_file_gives_every_dag_once_in_order(tmp_path: Path) -> None:
    path = write(tmp_path, FACTORY.format(k=200))
    dags, error, _ = import_dag_file(path)
    assert error is None
    ids = [d.dag_id for d in dags]
    assert len(ids) == 200 and set(ids) == {f"client_{i}" for i in range(200)}
    bag = load_dags(tmp_path)
    assert not bag.import_errors
    assert sorted(bag.dags) == sorted(f"client_{i}" for i in range(200))
    for dag in bag.dags.values():
        assert dag.fileloc == str(path)
        assert dag.timetable.summary == "@daily"
        assert [(t.task_id, sorted(t.downstream_task_ids)) for t in dag.topological_sort()] == [
            ("a", ["b"]),
            ("b", ["c"]),
            ("c", []),
        ]


def test_a_dag_entered_twice_and_kept_in_a_global_is_found_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator
        first = DAG("first")
        with first:
            EmptyOperator(task_id="a")
        with first:
            EmptyOperator(task_id="b")
        alias = first
        with DAG("second"):
            EmptyOperator(task_id="c")
        """,
    )
    dags, error, _ = import_dag_file(tmp_path / "dags.py")
    assert error is None
    assert [d.dag_id for d in dags] == ["first", "second"]
    assert sorted(dags[0].task_dict) == ["a", "b"]


def test_auto_register_false_is_found_only_through_a_global(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator
        def build(dag_id):
            with DAG(dag_id, auto_register=False) as dag:
                EmptyOperator(task_id="a")
            return dag
        kept = build("kept")
        build("dropped")
        """,
    )
    dags, error, _ = import_dag_file(tmp_path / "dags.py")
    assert error is None
    assert [d.dag_id for d in dags] == ["kept"]
    assert _context.take_autoregistered() == []


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("source", ["from airflow import DAG\nDAG('ok')\n", "raise ValueError('boom')\n"])
def test_import_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path, enabled: bool, source: str) -> None:
    path = write(tmp_path, source)
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        import_dag_file(path)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_the_same_invalid_cron_fails_every_time() -> None:
    for _ in range(3):
        with pytest.raises(DagDefinitionError, match="Invalid schedule '0 0 \\* \\*'"):
            DAG("bad", schedule="0 0 * *")
    timetable = CronDataIntervalTimetable("@daily")
    assert (timetable.summary, timetable.expression) == ("@daily", "0 0 * * *")


def test_default_args_still_checked_and_ordered() -> None:
    with DAG("d", default_args={"retries": 2, "pool": "dag_pool", "queue": "q", "bash_command": "x"}):
        op = EmptyOperator(task_id="a", pool="mine")
        plain = EmptyOperator(task_id="b")
    assert (op.retries, op.pool, op.queue) == (2, "mine", "q")
    assert (plain.retries, plain.pool) == (2, "dag_pool")
    assert op.params == {} and op.params is not plain.params
    with pytest.raises(DagDefinitionError, match="retries must be a whole number"):
        with DAG("bad", default_args={"retries": -1}):
            EmptyOperator(task_id="a")
    with pytest.raises(DagDefinitionError, match="retry_delay must be"):
        with DAG("bad2", default_args={"retry_delay": "soon"}):
            EmptyOperator(task_id="a")
    with DAG("none"):
        assert EmptyOperator(task_id="a", retries=None).retries == 0


class WithProperty(BaseOperator):
    """``pool`` is a property: its setter must run for the base argument."""

    seen: list[Any] = []

    @property
    def pool(self) -> str:  # type: ignore[override]
        return self._pool

    @pool.setter
    def pool(self, value: str) -> None:
        WithProperty.seen.append(value)
        self._pool = value.upper()

    def execute(self, context: dict[str, Any]) -> None:
        return None


class WatchingSetattr(BaseOperator):
    """A subclass with its own ``__setattr__`` sees every attribute set."""

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__.setdefault("_names", []).append(name)
        super().__setattr__(name, value)

    def execute(self, context: dict[str, Any]) -> None:
        return None


class TemplatedParams(BaseOperator):
    """A base argument that is also a template field: a task output in it links the producer."""

    template_fields = ("doc_md",)

    def execute(self, context: dict[str, Any]) -> None:
        return None


def test_attributes_the_class_intercepts_still_go_through_setattr() -> None:
    WithProperty.seen.clear()
    with DAG("p"):
        op = WithProperty(task_id="a", pool="small")
        watched = WatchingSetattr(task_id="b", retries=1)
    assert WithProperty.seen == ["small"] and op.pool == "SMALL"
    names: list[str] = watched.__dict__["_names"]
    assert names[:6] == ["mapped_from", "task_id", "dag", "task_group", "upstream_task_ids", "downstream_task_ids"]
    assert {"retries", "pool", "owner", "params"} <= set(names)


def test_a_task_output_in_a_templated_base_argument_makes_an_edge() -> None:
    @task
    def produce() -> str:
        return "doc"

    with DAG("t") as dag:
        made = produce()
        TemplatedParams(task_id="uses", doc_md=made)
    assert dag.task_dict["uses"].upstream_task_ids == {"produce"}
