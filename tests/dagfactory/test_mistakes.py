"""Each kind of mistake in a dag-factory config: an import error on the YAML file naming the DAG,
the key path and the line, and saying what is allowed; it breaks only that DAG (the other DAG
of the same file, and the DAGs of the other file, load and run)."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from tradewind.loader import load_dags
from tradewind.scheduler.dag_test import test_dag as run_dag

LOADER = "from dagfactory import load_yaml_dags\nload_yaml_dags(globals_dict=globals())\n"

GOOD_DAG = """
healthy:
  tasks:
    hello:
      operator: airflow.operators.bash.BashOperator
      bash_command: "echo fine"
"""
OTHER_FILE = "elsewhere:\n  tasks:\n    t: {operator: airflow.operators.empty.EmptyOperator}\n"

MISTAKES = {
    "unknown dependency": (
        """
        orders:
          tasks:
            extract: {operator: airflow.operators.empty.EmptyOperator}
            transform:
              operator: airflow.operators.empty.EmptyOperator
              dependencies: [extract]
            load:
              operator: airflow.operators.empty.EmptyOperator
              dependencies: [transform, ghost_task]
        """,
        "DagFactoryConfigError: `tasks.load.dependencies`: no task named `ghost_task` in DAG `orders` (line 9); "
        "tasks are: extract, load, transform",
    ),
    "wrong key": (
        """
        orders:
          shedule: "@daily"
          tasks:
            extract: {operator: airflow.operators.empty.EmptyOperator}
        """,
        "DagFactoryConfigError: `shedule`: unknown key `shedule` in DAG `orders` (line 2); DAG keys are: ",
    ),
    "unknown operator": (
        """
        orders:
          tasks:
            extract:
              operator: airflow.operators.s3.S3CopyOperator
        """,
        "DagFactoryConfigError: `tasks.extract.operator`: unknown operator `airflow.operators.s3.S3CopyOperator` "
        "(cannot import name 's3' from 'airflow.operators': tradewind does not provide the Airflow name "
        "airflow.operators.s3 (see docs/airflow-compatibility.md for what it provides and what it does not)) "
        "in DAG `orders` (line 4); tradewind provides Airflow's standard operators and sensors under their "
        "Airflow 2 and 3 paths",
    ),
    "cycle": (
        """
        orders:
          tasks:
            a: {operator: airflow.operators.empty.EmptyOperator, dependencies: [c]}
            b: {operator: airflow.operators.empty.EmptyOperator, dependencies: [a]}
            c: {operator: airflow.operators.empty.EmptyOperator, dependencies: [b]}
        """,
        "DagFactoryConfigError: `tasks.a.dependencies`: dependency cycle a -> c -> b -> a in DAG `orders` (line 3); "
        "a DAG's dependencies must not loop",
    ),
    "bad type": (
        """
        orders:
          catchup: "sometimes"
          tasks:
            a: {operator: airflow.operators.empty.EmptyOperator}
        """,
        "DagFactoryConfigError: `catchup`: must be true or false, not a string in DAG `orders` (line 2)",
    ),
    "bad operator argument": (
        """
        orders:
          tasks:
            a:
              operator: airflow.operators.empty.EmptyOperator
              retries: three
        """,
        "DagFactoryConfigError: `tasks.a`: DagDefinitionError: Task 'a': retries must be a whole number >= 0, "
        "got 'three' in DAG `orders` (line 3)",
    ),
    "bad mapping": (
        """
        orders:
          tasks:
            each:
              operator: airflow.operators.bash.BashOperator
              expand:
                bash_command: "echo one"
        """,
        "DagFactoryConfigError: `tasks.each.expand.bash_command`: cannot map over a string in DAG `orders` (line 6); "
        "give a list, a mapping, or an upstream task's output (`+task`, `task.output`)",
    ),
    "mapping reference to a missing task": (
        """
        orders:
          tasks:
            each:
              decorator: airflow.sdk.task
              python_callable: mistake_helpers.double
              expand: {x: +nowhere}
        """,
        "DagFactoryConfigError: `tasks.each.expand.x`: no task named `nowhere` in DAG `orders` (line 6); "
        "tasks are: each",
    ),
    "unknown mapped argument": (
        """
        orders:
          tasks:
            each:
              decorator: airflow.sdk.task
              python_callable: mistake_helpers.double
              expand: {y: [1, 2]}
        """,
        "DagFactoryConfigError: `tasks.each.expand`: MappingError: each.expand() got an unexpected keyword argument "
        "'y' in DAG `orders` (line 6)",
    ),
    "missing callable": (
        """
        orders:
          tasks:
            run:
              operator: airflow.operators.python.PythonOperator
              python_callable: mistake_helpers.not_there
        """,
        "DagFactoryConfigError: `tasks.run.python_callable`: AttributeError: module 'mistake_helpers' has no attribute "
        "'not_there' in DAG `orders` (line 5)",
    ),
    "unknown task group": (
        """
        orders:
          tasks:
            run:
              operator: airflow.operators.empty.EmptyOperator
              task_group_name: ghost_group
        """,
        "DagFactoryConfigError: `tasks.run.task_group_name`: no task group named `ghost_group` in DAG `orders` "
        "(line 5); task groups are: (none)",
    ),
    "neither operator nor decorator": (
        """
        orders:
          tasks:
            run: {bash_command: "echo hi"}
        """,
        "DagFactoryConfigError: `tasks.run`: a task needs either `operator` or `decorator` in DAG `orders` (line 3); "
        "(exactly one of them)",
    ),
    "unsupported feature": (
        """
        orders:
          tasks:
            run:
              operator: airflow.operators.empty.EmptyOperator
              variables_as_arguments: [{variable: x, attribute: y}]
        """,
        "DagFactoryConfigError: `tasks.run.variables_as_arguments`: Airflow Variables (`variables_as_arguments`) are "
        "not supported by tradewind in DAG `orders` (line 5)",
    ),
    "dataset schedule": (
        """
        orders:
          schedule: ["s3://bucket/orders"]
          tasks:
            run: {operator: airflow.operators.empty.EmptyOperator}
        """,
        "DagFactoryConfigError: `schedule`: schedules on datasets or assets are not supported by tradewind in DAG "
        "`orders` (line 2); give a cron expression or preset",
    ),
    "bad __type__": (
        """
        orders:
          default_args:
            retry_delay: {__type__: datetime.timedeltaa, minutes: 5}
          tasks:
            run: {operator: airflow.operators.empty.EmptyOperator}
        """,
        "DagFactoryConfigError: `default_args.retry_delay.__type__`: AttributeError: module 'datetime' has no "
        "attribute 'timedeltaa' in DAG `orders` (line 3)",
    ),
}


def setup(tmp_path: Path, broken: str) -> Path:
    (tmp_path / "loader.py").write_text(LOADER)
    (tmp_path / "mistake_helpers.py").write_text("def double(x):\n    return 2 * x\n")
    (tmp_path / "a_broken.yml").write_text(textwrap.dedent(broken).lstrip("\n") + GOOD_DAG)
    (tmp_path / "b_other.yml").write_text(OTHER_FILE)
    return tmp_path


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_mistake_is_an_import_error_on_the_yaml_and_breaks_only_its_dag(tmp_path: Path, mistake: str) -> None:
    broken, message = MISTAKES[mistake]
    bag = load_dags(setup(tmp_path, broken))
    assert list(bag.import_errors) == [str(tmp_path / "a_broken.yml")]
    error = bag.import_errors[str(tmp_path / "a_broken.yml")].error
    assert error.startswith(message), error
    assert "\n" not in error
    assert sorted(bag.dags) == ["elsewhere", "healthy"]
    state = run_dag(bag.get_dag("healthy"), io.StringIO())
    assert [(r.task_id, str(r.state), r.return_value) for r in state.records()] == [("hello", "success", "fine")]


def test_every_broken_dag_of_a_file_is_its_own_error_line(tmp_path: Path) -> None:
    broken = """
        one:
          tasks:
            a: {operator: airflow.operators.empty.EmptyOperator, dependencies: [zz]}
        two:
          max_active_runs: many
          tasks:
            a: {operator: airflow.operators.empty.EmptyOperator}
    """
    bag = load_dags(setup(tmp_path, broken))
    lines = bag.import_errors[str(tmp_path / "a_broken.yml")].error.splitlines()
    assert [line.split(" in DAG ")[1].split(" ")[0] for line in lines] == ["`one`", "`two`"]
    assert "(line 3)" in lines[0] and "(line 5)" in lines[1]
    assert sorted(bag.dags) == ["elsewhere", "healthy"]


def test_a_file_that_is_not_yaml_is_one_error_at_its_line_and_other_files_load(tmp_path: Path) -> None:
    setup(tmp_path, "")
    (tmp_path / "a_broken.yml").write_text("orders:\n  tasks:\n    a: [unclosed\n  b: 1\n")
    bag = load_dags(tmp_path)
    error = bag.import_errors[str(tmp_path / "a_broken.yml")].error
    assert error.startswith("DagFactoryConfigError: not valid YAML: ") and error.endswith("(line 4)")
    assert sorted(bag.dags) == ["elsewhere"]


def test_the_same_dag_id_in_two_files_is_an_error_on_the_second(tmp_path: Path) -> None:
    setup(tmp_path, "")
    (tmp_path / "c_again.yml").write_text(OTHER_FILE)
    bag = load_dags(tmp_path)
    assert bag.import_errors[str(tmp_path / "c_again.yml")].error == (
        f"DagFactoryConfigError: DAG `elsewhere` (line 1) is already defined in {tmp_path / 'b_other.yml'}"
    )
    assert sorted(bag.dags) == ["elsewhere", "healthy"]


def test_a_dict_config_with_a_mistake_fails_the_loader_file_with_the_key_path(tmp_path: Path) -> None:
    (tmp_path / "loader.py").write_text(
        "from dagfactory import load_yaml_dags\n"
        "load_yaml_dags(globals_dict=globals(), config_dict={'d': {'tasks': {'a': {'operator': 'x.Y'}}}})\n"
    )
    bag = load_dags(tmp_path)
    error = bag.import_errors[str(tmp_path / "loader.py")].error
    assert error.startswith("DagFactoryConfigError: `tasks.a.operator`: unknown operator `x.Y` (no module named x)")
    assert error.endswith("(line 2)")


def test_a_dag_factory_module_tradewind_does_not_provide_is_a_clear_import_error(tmp_path: Path) -> None:
    (tmp_path / "loader.py").write_text(
        "from dagfactory.exceptions import DagFactoryConfigException  # provided\n"
        "from dagfactory.utils import get_datetime  # dag\n"
    )
    bag = load_dags(tmp_path)
    assert bag.import_errors[str(tmp_path / "loader.py")].error == (
        "ModuleNotFoundError: No module named 'dagfactory.utils': tradewind runs dag-factory configs without "
        "dag-factory installed and provides only these modules: dagfactory, dagfactory.dagfactory, "
        "dagfactory.exceptions (line 2)"
    )
