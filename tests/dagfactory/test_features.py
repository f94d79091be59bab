"""dag-factory 1.x's format, read natively: each feature loaded from a small YAML folder through
the real loader (``from dagfactory import load_yaml_dags`` in a DAG file) and run with
``dags test``, asserting the instances, map indexes, states and return values a user sees."""

from __future__ import annotations

import io
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tradewind.loader import load_dags
from tradewind.scheduler.dag_test import test_dag as run_dag

LOADER = """
from dagfactory import load_yaml_dags
load_yaml_dags(globals_dict=globals())
"""

HELPERS = """
def numbers(n):
    return list(range(1, n + 1))

def square(x):
    return x * x

def add(x, y):
    return x + y

def total(values):
    return sum(values)

def split(text):
    left, right = text.split("-")
    return {"left": left, "right": right}

def join(a, b):
    return f"{a}+{b}"

def greet(name, greeting="hello"):
    return f"{greeting} {name}"

def singletons(n):
    return [[i] for i in range(1, n + 1)]

def flaky_failure(context=None):
    return "called"
"""


def folder(tmp_path: Path, files: dict[str, str], loader: str = LOADER) -> Path:
    for name, text in {"loader.py": loader, "feature_helpers.py": HELPERS, **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return tmp_path


def load(tmp_path: Path, files: dict[str, str], loader: str = LOADER) -> Any:
    bag = load_dags(folder(tmp_path, files, loader))
    assert bag.import_errors == {}
    return bag


def run(bag: Any, dag_id: str) -> tuple[str, dict[tuple[str, int], tuple[str, Any]]]:
    state = run_dag(bag.get_dag(dag_id), io.StringIO(), logical_date=datetime(2025, 7, 2), no_retry_delay=True)
    table = {(r.task_id, r.map_index): (str(r.state), r.return_value) for r in state.records()}
    return str(state.dag_run_state()), table


def test_default_block_and_defaults_files_merge_key_by_key_and_the_dag_wins(tmp_path: Path) -> None:
    bag = load(
        tmp_path,
        {
            "defaults.yml": """
                default_args: {owner: platform, retries: 4, start_date: 2024-06-01}
                tags: [company]
                max_active_runs: 3
            """,
            "team/defaults.yml": """
                default_args: {owner: team, retry_delay: 30}
                tags: [team]
            """,
            "team/pipelines.yml": """
                default:
                  default_args: {retries: 2}
                  schedule: "@daily"
                  catchup: false
                first:
                  tasks:
                    only: {operator: airflow.operators.empty.EmptyOperator}
                second:
                  schedule: "0 6 * * *"
                  max_active_runs: 1
                  default_args: {retries: 5}
                  tags: [special]
                  tasks:
                    only: {operator: airflow.operators.empty.EmptyOperator}
            """,
        },
    )
    first, second = bag.get_dag("first"), bag.get_dag("second")
    # defaults.yml nearest the YAML wins over the one at the root; the file's default block over both
    assert first.default_args["owner"] == "team" and first.default_args["retries"] == 2
    assert first.default_args["retry_delay"] == 30
    assert first.start_date == datetime(2024, 6, 1, tzinfo=UTC)
    assert first.max_active_runs == 3 and first.catchup is False
    assert first.timetable.summary == "@daily" and second.timetable.summary == "0 6 * * *"
    assert first.tags == ["company", "dagfactory", "team"]
    assert second.tags == ["dagfactory", "special"] and second.max_active_runs == 1
    assert second.task_dict["only"].retries == 5 and first.task_dict["only"].retries == 2
    assert first.task_dict["only"].owner == "team"
    assert run(bag, "second")[0] == "success"


def test_folder_scan_finds_every_yaml_below_the_folder_except_ignored_ones(tmp_path: Path) -> None:
    bag = load(
        tmp_path,
        {
            "a.yaml": "alpha: {tasks: {t: {operator: airflow.operators.empty.EmptyOperator}}}",
            "deep/er/b.yml": "beta: {tasks: {t: {operator: airflow.operators.empty.EmptyOperator}}}",
            "scratch/c.yml": "gamma: {tasks: {t: {operator: airflow.operators.empty.EmptyOperator}}}",
            ".airflowignore": "scratch\n",
        },
    )
    assert sorted(bag.dags) == ["alpha", "beta"]
    assert {d.fileloc for d in bag.dags.values()} == {str(tmp_path / "loader.py")}


def test_config_filepath_loads_one_file_and_dag_settings_reach_the_dag(tmp_path: Path) -> None:
    loader = """
        import os
        from dagfactory import load_yaml_dags
        here = os.path.dirname(os.path.abspath(__file__))
        load_yaml_dags(globals_dict=globals(), config_filepath=os.path.join(here, "configs", "one.yml"))
    """
    bag = load(
        tmp_path,
        {
            "configs/one.yml": """
                settings:
                  description: every DAG-level setting
                  schedule_interval: "@hourly"
                  catchup: true
                  params: {region: eu}
                  render_template_as_native_obj: true
                  start_date: "2025-01-01"
                  timezone: Europe/Paris
                  default_args:
                    retry_delay: {__type__: datetime.timedelta, minutes: 7}
                    execution_timeout: {__type__: datetime.timedelta, __args__: [0, 90]}
                  tasks:
                    show:
                      operator: airflow.providers.standard.operators.bash.BashOperator
                      bash_command: "echo {{ params.region }} {{ ds }}"
            """,
            "configs/other.yml": "ignored: {tasks: {t: {operator: airflow.operators.empty.EmptyOperator}}}",
        },
        loader,
    )
    dag = bag.get_dag("settings")
    assert sorted(bag.dags) == ["settings"]
    assert dag.description == "every DAG-level setting" and dag.catchup is True
    assert dag.timetable.summary == "@hourly" and dag.params["region"] == "eu"
    assert dag.render_template_as_native_obj is True
    assert dag.start_date == datetime(2024, 12, 31, 23, 0, tzinfo=UTC)  # midnight in Paris
    show = dag.task_dict["show"]
    assert show.retry_delay == timedelta(minutes=7) and show.execution_timeout == timedelta(seconds=90)
    assert run(bag, "settings") == ("success", {("show", -1): ("success", "eu 2025-07-02")})


def test_tasks_as_a_list_python_callables_by_path_and_by_file_and_trigger_rules(tmp_path: Path) -> None:
    bag = load(
        tmp_path,
        {
            "lib/funcs.py": "def shout():\n    return 'HEY'\n\ndef fail():\n    raise ValueError('no')\n",
            "p.yml": """
                callables:
                  tasks:
                    - task_id: by_path
                      operator: airflow.operators.python.PythonOperator
                      python_callable: feature_helpers.greet
                      op_kwargs: {name: ada}
                    - task_id: by_file
                      operator: airflow.providers.standard.operators.python.PythonOperator
                      python_callable_name: shout
                      python_callable_file: lib/funcs.py
                    - task_id: breaks
                      operator: airflow.operators.python.PythonOperator
                      python_callable_name: fail
                      python_callable_file: lib/funcs.py
                      retries: 2
                      retry_delay: 1
                    - task_id: after_all
                      operator: airflow.operators.empty.EmptyOperator
                      trigger_rule: all_done
                      dependencies: [by_path, by_file, breaks]
                    - task_id: only_if_ok
                      operator: airflow.operators.empty.EmptyOperator
                      dependencies: [breaks]
            """,
        },
    )
    state, tis = run(bag, "callables")
    assert state == "failed"
    assert tis[("by_path", -1)] == ("success", "hello ada")
    assert tis[("by_file", -1)] == ("success", "HEY")
    assert tis[("breaks", -1)][0] == "failed"
    assert tis[("after_all", -1)][0] == "success"
    assert tis[("only_if_ok", -1)][0] == "upstream_failed"
    assert bag.get_dag("callables").task_dict["breaks"].retries == 2
    state_again = run_dag(bag.get_dag("callables"), io.StringIO(), no_retry_delay=True)
    [breaks] = [r for r in state_again.records() if r.task_id == "breaks"]
    assert breaks.try_number == 3  # retries: 2, so three tries
    assert bag.get_dag("callables").task_dict["breaks"].retry_delay == timedelta(seconds=1)
    assert "ValueError: no" in str(breaks.error)


def test_taskflow_tasks_with_literal_arguments_and_references_to_outputs(tmp_path: Path) -> None:
    bag = load(
        tmp_path,
        {
            "flow.yml": """
                flow:
                  tasks:
                    halves:
                      decorator: airflow.sdk.task
                      python_callable: feature_helpers.split
                      multiple_outputs: true
                      text: "north-south"
                    joined:
                      decorator: airflow.decorators.task
                      python_callable: feature_helpers.join
                      a: +halves['right']
                      b: +halves["left"]
                    hello:
                      decorator: airflow.sdk.task
                      python_callable: feature_helpers.greet
                      name: +joined
                      greeting: hi
                      retries: 1
            """,
        },
    )
    state, tis = run(bag, "flow")
    assert state == "success"
    assert tis[("halves", -1)] == ("success", {"left": "north", "right": "south"})
    assert tis[("joined", -1)] == ("success", "south+north")
    assert tis[("hello", -1)] == ("success", "hi south+north")
    assert bag.get_dag("flow").task_dict["hello"].retries == 1


def test_mapping_over_literals_over_an_upstream_output_with_partial_and_as_a_cross_product(tmp_path: Path) -> None:
    bag = load(
        tmp_path,
        {
            "maps.yml": """
                maps:
                  tasks:
                    make:
                      decorator: airflow.sdk.task
                      python_callable: feature_helpers.numbers
                      n: 3
                    squares:
                      decorator: airflow.sdk.task
                      python_callable: feature_helpers.square
                      expand: {x: +make}
                    summed:
                      decorator: airflow.sdk.task
                      python_callable: feature_helpers.total
                      values: +squares
                    plus_ten:
                      decorator: airflow.sdk.task
                      python_callable: feature_helpers.add
                      partial: {y: 10}
                      expand: {x: [1, 2]}
                    grid:
                      decorator: airflow.sdk.task
                      python_callable: feature_helpers.add
                      expand: {x: [100, 200], y: +make}
                    echo:
                      operator: airflow.operators.bash.BashOperator
                      partial: {env: {WORD: hi}}
                      expand: {bash_command: ["echo $WORD one", "echo $WORD two"]}
                    singles:
                      decorator: airflow.sdk.task
                      python_callable: feature_helpers.singletons
                      n: 2
                    squared_classic:
                      operator: airflow.operators.python.PythonOperator
                      python_callable: feature_helpers.square
                      expand:
                        op_args: singles.output
            """,
        },
    )
    state, tis = run(bag, "maps")
    assert state == "success"
    assert [tis[("squares", i)] for i in range(3)] == [("success", 1), ("success", 4), ("success", 9)]
    assert tis[("summed", -1)] == ("success", 14)
    assert [tis[("plus_ten", i)][1] for i in range(2)] == [11, 12]
    # cross product, the last argument fastest
    assert [tis[("grid", i)][1] for i in range(6)] == [101, 102, 103, 201, 202, 203]
    assert [tis[("echo", i)] for i in range(2)] == [("success", "hi one"), ("success", "hi two")]
    assert [tis[("squared_classic", i)] for i in range(2)] == [("success", 1), ("success", 4)]


def test_task_groups_nested_with_dependencies_between_tasks_and_groups(tmp_path: Path) -> None:
    bag = load(
        tmp_path,
        {
            "groups.yml": """
                grouped:
                  task_groups:
                    ingest:
                      tooltip: bring data in
                      default_args: {retries: 3}
                    clean:
                      parent_group_name: ingest
                    publish:
                      dependencies: [ingest]
                  tasks:
                    start: {operator: airflow.operators.empty.EmptyOperator}
                    fetch:
                      operator: airflow.operators.empty.EmptyOperator
                      task_group_name: ingest
                      dependencies: [start]
                    scrub:
                      operator: airflow.operators.empty.EmptyOperator
                      task_group_name: clean
                      dependencies: [fetch]
                    ship:
                      operator: airflow.operators.empty.EmptyOperator
                      task_group_name: publish
                    done:
                      operator: airflow.operators.empty.EmptyOperator
                      dependencies: [publish]
            """,
        },
    )
    dag = bag.get_dag("grouped")
    assert sorted(dag.task_dict) == ["done", "ingest.clean.scrub", "ingest.fetch", "publish.ship", "start"]
    assert dag.task_dict["ingest.clean.scrub"].retries == 3 and dag.task_dict["publish.ship"].retries == 0
    assert sorted(dag.task_dict["publish.ship"].upstream_task_ids) == ["ingest.clean.scrub"]
    assert sorted(dag.task_dict["ingest.fetch"].upstream_task_ids) == ["start"]
    assert sorted(dag.task_dict["done"].upstream_task_ids) == ["publish.ship"]
    state, tis = run(bag, "grouped")
    assert state == "success" and len(tis) == 5


def test_callbacks_by_dotted_path_and_by_name_and_file_are_resolved(tmp_path: Path) -> None:
    bag = load(
        tmp_path,
        {
            "cb.yml": """
                with_callbacks:
                  on_failure_callback: feature_helpers.flaky_failure
                  default_args:
                    on_retry_callback: feature_helpers.flaky_failure
                  tasks:
                    t:
                      operator: airflow.operators.empty.EmptyOperator
                      on_success_callback: [feature_helpers.flaky_failure]
                      on_failure_callback_name: greet
                      on_failure_callback_file: feature_helpers.py
            """,
        },
    )
    dag = bag.get_dag("with_callbacks")
    task = dag.task_dict["t"]
    assert dag.on_failure_callback.__name__ == "flaky_failure"
    assert [f.__name__ for f in task.on_success_callback] == ["flaky_failure"]
    assert task.on_failure_callback.__name__ == "greet"
    assert task.on_retry_callback.__name__ == "flaky_failure"


def test_the_dag_factory_class_and_environment_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DF_GREETING", "salut")
    loader = """
        import os
        from dagfactory import DagFactory
        DagFactory(os.path.join(os.path.dirname(os.path.abspath(__file__)), "env.yml")).generate_dags(globals())
    """
    bag = load(
        tmp_path,
        {
            "env.yml": """
                env_dag:
                  tasks:
                    say:
                      operator: airflow.operators.bash.BashOperator
                      bash_command: "echo ${DF_GREETING}"
            """
        },
        loader,
    )
    assert run(bag, "env_dag") == ("success", {("say", -1): ("success", "salut")})


def test_user_defined_macros_by_dotted_path_render_in_templates(tmp_path: Path) -> None:
    bag = load(
        tmp_path,
        {
            "macros.yml": """
                with_macros:
                  user_defined_macros:
                    greet: feature_helpers.greet  # a string is a dotted path, as in dag-factory
                    times: 3
                  tasks:
                    say:
                      operator: airflow.operators.bash.BashOperator
                      bash_command: "echo {{ greet('north') }} x{{ times }}"
            """
        },
    )
    assert run(bag, "with_macros") == ("success", {("say", -1): ("success", "hello north x3")})


def test_airflow_2_web_ui_settings_load_with_a_warning(tmp_path: Path) -> None:
    with pytest.warns(
        UserWarning,
        match="DAG 'old_ui': `default_view` and `orientation`: Airflow 2 web UI settings; tradewind ignores them",
    ):
        bag = load(
            tmp_path,
            {
                "ui.yml": """
                    old_ui:
                      default_view: graph
                      orientation: LR
                      tasks:
                        t: {operator: airflow.operators.empty.EmptyOperator}
                """
            },
        )
    assert run(bag, "old_ui") == ("success", {("t", -1): ("success", None)})
