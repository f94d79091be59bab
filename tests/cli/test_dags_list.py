"""End to end: ``tradewind dags list`` and ``dags list-import-errors`` against real DAG folders."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest


def describe(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def parse_json(result: subprocess.CompletedProcess[str]) -> Any:
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"stdout is not JSON\n{describe(result)}")


def dag_ids(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [row["dag_id"] for row in parse_json(result)]


GOOD_DAG = """
    from datetime import datetime

    from airflow.decorators import dag, task


    @dag(start_date=datetime(2025, 7, 1), schedule=None, catchup=False, tags=["good"])
    def good_dag():
        @task
        def hello():
            print("hello from good_dag")
            return 42

        hello()


    good_dag()
"""

# The syntax error is on line 5 (the unclosed parenthesis opens and stays open on line 5).
SYNTAX_ERROR_DAG = """
    from datetime import datetime

    from airflow import DAG

    with DAG("broken_syntax", start_date=datetime(2025, 7, 1) as dag:
        pass
"""
SYNTAX_ERROR_LINE = 5

# Raises at import time on line 7.
RAISING_DAG = """
    from datetime import datetime

    from airflow import DAG

    SETTINGS = {}

    bucket = SETTINGS["bucket"]  # KeyError at import time

    with DAG("broken_raises", start_date=datetime(2025, 7, 1)) as dag:
        pass
"""
RAISING_LINE = 7


def simple_dag(dag_id: str, *, raises: bool = False) -> str:
    """A one-task DAG; with ``raises`` the file raises at import (so an unignored file shows up)."""
    boom = 'raise RuntimeError("this file should have been ignored")\n' if raises else ""
    return (
        "from datetime import datetime\n"
        "from airflow import DAG\n"
        "from airflow.operators.empty import EmptyOperator\n"
        f"{boom}"
        f'with DAG("{dag_id}", start_date=datetime(2025, 7, 1), schedule=None) as dag:\n'
        '    EmptyOperator(task_id="only")\n'
    )


# -- the examples folder ------------------------------------------------------------------------


def test_list_examples_as_json(run_cli, examples_dags):
    result = run_cli("dags", "list", "--dags-folder", examples_dags, "-o", "json")

    assert result.returncode == 0, describe(result)
    rows = parse_json(result)
    by_id = {row["dag_id"]: row for row in rows}
    for dag_id in (
        "process_data_client_a",
        "process_data_client_b",
        "process_data_client_c",
        "mapped_example_dag",
    ):
        assert dag_id in by_id, f"{dag_id} missing from {sorted(by_id)}"
    for row in rows:
        assert set(row) == {"dag_id", "file", "schedule", "timetable", "timetable_chosen_by", "tags", "is_paused"}, row
        assert row["is_paused"] is False
    assert by_id["process_data_client_b"]["file"] == "dynamic_dags_factory.py"
    assert by_id["process_data_client_b"]["tags"] == ["dynamic"]
    assert by_id["process_data_client_b"]["schedule"] == "@daily"
    assert by_id["mapped_example_dag"]["file"] == "mapped_example_dag.py"
    assert by_id["mapped_example_dag"]["schedule"] == "@daily"
    assert by_id["mapped_example_dag"]["tags"] == []
    assert by_id["mapped_example_dag"]["timetable"] == "CronDataIntervalTimetable"  # an Airflow 2 file


def test_list_with_relative_dags_folder(run_cli):
    result = run_cli("dags", "list", "--dags-folder", "examples/dags", "-o", "json")

    assert result.returncode == 0, describe(result)
    assert "mapped_example_dag" in dag_ids(result)


def test_list_examples_as_table(run_cli, examples_dags):
    result = run_cli("dags", "list", "--dags-folder", examples_dags)

    assert result.returncode == 0, describe(result)
    for dag_id in ("process_data_client_a", "process_data_client_c", "mapped_example_dag"):
        assert dag_id in result.stdout
    assert "dynamic_dags_factory.py" in result.stdout
    assert "failed to import" not in result.stderr


def test_examples_have_no_import_errors(run_cli, examples_dags):
    result = run_cli("dags", "list-import-errors", "--dags-folder", examples_dags, "-o", "json")

    assert result.returncode == 0, describe(result)
    assert parse_json(result) == []

    table = run_cli("dags", "list-import-errors", "--dags-folder", examples_dags)
    assert table.returncode == 0, describe(table)
    assert "No import errors" in table.stdout


# -- broken files -------------------------------------------------------------------------------


@pytest.fixture
def broken_folder(dags_folder, write_dag) -> Path:
    write_dag(dags_folder, "good.py", GOOD_DAG)
    write_dag(dags_folder, "syntax_error.py", SYNTAX_ERROR_DAG)
    write_dag(dags_folder, "raises.py", RAISING_DAG)
    return dags_folder


def test_broken_files_do_not_hide_good_dags(run_cli, broken_folder):
    result = run_cli("dags", "list", "--dags-folder", broken_folder, "-o", "json")

    assert result.returncode == 0, describe(result)
    assert dag_ids(result) == ["good_dag"]
    assert "2 file(s) failed to import" in result.stderr


def test_good_dag_runs_beside_broken_files(run_cli, broken_folder):
    result = run_cli("dags", "test", "good_dag", "--dags-folder", broken_folder, "-o", "json")

    assert result.returncode == 0, describe(result)
    run = parse_json(result)
    assert run["state"] == "success"
    assert [(ti["task_id"], ti["state"], ti["return_value"]) for ti in run["task_instances"]] == [
        ("hello", "success", 42)
    ]
    assert "hello from good_dag" in result.stderr


def test_list_import_errors_table_shows_each_file_and_line(run_cli, broken_folder):
    result = run_cli("dags", "list-import-errors", "--dags-folder", broken_folder)

    assert result.returncode == 1, describe(result)
    lines = result.stdout.splitlines()
    syntax_line = next((ln for ln in lines if "syntax_error.py" in ln), None)
    raises_line = next((ln for ln in lines if "raises.py" in ln), None)
    assert syntax_line is not None, describe(result)
    assert raises_line is not None, describe(result)
    assert "SyntaxError" in syntax_line and f"line {SYNTAX_ERROR_LINE}" in syntax_line, syntax_line
    assert "KeyError" in raises_line and f"line {RAISING_LINE}" in raises_line, raises_line
    assert "good.py" not in result.stdout


def test_list_import_errors_json_shows_each_file_and_line(run_cli, broken_folder):
    result = run_cli("dags", "list-import-errors", "--dags-folder", broken_folder, "-o", "json")

    assert result.returncode == 1, describe(result)
    errors = {Path(e["filename"]).name: e["error"] for e in parse_json(result)}
    assert set(errors) == {"syntax_error.py", "raises.py"}
    assert errors["syntax_error.py"].startswith("SyntaxError")
    assert f"line {SYNTAX_ERROR_LINE}" in errors["syntax_error.py"]
    assert errors["raises.py"].startswith("KeyError")
    assert f"line {RAISING_LINE}" in errors["raises.py"]
    assert "bucket" in errors["raises.py"]  # the traceback shows the offending source line


def test_unknown_dag_points_at_import_errors(run_cli, broken_folder):
    result = run_cli("dags", "test", "broken_raises", "--dags-folder", broken_folder)

    assert result.returncode != 0
    assert "broken_raises" in result.stderr
    assert "not found" in result.stderr
    assert "list-import-errors" in result.stderr


def test_missing_provider_import_names_the_module(run_cli, dags_folder, write_dag):
    write_dag(
        dags_folder,
        "s3_upload.py",
        """
        from datetime import datetime

        from airflow import DAG
        from airflow.providers.amazon.aws.operators.s3 import S3CreateObjectOperator

        with DAG("s3_upload", start_date=datetime(2025, 7, 1)) as dag:
            S3CreateObjectOperator(task_id="put", s3_bucket="b", s3_key="k", data="x")
        """,
    )

    result = run_cli("dags", "list-import-errors", "--dags-folder", dags_folder, "-o", "json")

    assert result.returncode == 1, describe(result)
    [error] = parse_json(result)
    assert Path(error["filename"]).name == "s3_upload.py"
    assert "airflow.providers.amazon" in error["error"]
    assert error["error"].startswith(("ModuleNotFoundError", "ImportError"))
    assert "line 4" in error["error"]

    listed = run_cli("dags", "list", "--dags-folder", dags_folder, "-o", "json")
    assert listed.returncode == 0, describe(listed)
    assert parse_json(listed) == []


def test_missing_dags_folder_is_a_clear_error(run_cli, tmp_path):
    missing = tmp_path / "no_such_folder"

    result = run_cli("dags", "list", "--dags-folder", missing)

    assert result.returncode != 0
    assert str(missing) in result.stderr
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


# -- where the DAGs folder comes from -----------------------------------------------------------


def test_dags_folder_from_environment(run_cli, dags_folder, write_dag):
    write_dag(dags_folder, "env_dag.py", simple_dag("from_env_dag"))

    result = run_cli("dags", "list", "-o", "json", env={"TRADEWIND__CORE__DAGS_FOLDER": str(dags_folder)})

    assert result.returncode == 0, describe(result)
    assert dag_ids(result) == ["from_env_dag"]


def test_dags_folder_defaults_to_home_dags(run_cli, tradewind_home, write_dag):
    write_dag(tradewind_home / "dags", "home_dag.py", simple_dag("from_home_dag"))

    result = run_cli("dags", "list", "-o", "json")

    assert result.returncode == 0, describe(result)
    assert dag_ids(result) == ["from_home_dag"]

    ran = run_cli("dags", "test", "from_home_dag", "-o", "json")
    assert ran.returncode == 0, describe(ran)
    assert parse_json(ran)["state"] == "success"


def test_environment_beats_home_and_option_beats_environment(run_cli, tradewind_home, dags_folder, tmp_path, write_dag):
    write_dag(tradewind_home / "dags", "home_dag.py", simple_dag("from_home_dag"))
    write_dag(dags_folder, "env_dag.py", simple_dag("from_env_dag"))
    option_folder = tmp_path / "option_dags"
    write_dag(option_folder, "option_dag.py", simple_dag("from_option_dag"))
    env = {"TRADEWIND__CORE__DAGS_FOLDER": str(dags_folder)}

    from_env = run_cli("dags", "list", "-o", "json", env=env)
    from_option = run_cli("dags", "list", "--dags-folder", option_folder, "-o", "json", env=env)

    assert dag_ids(from_env) == ["from_env_dag"], describe(from_env)
    assert dag_ids(from_option) == ["from_option_dag"], describe(from_option)


# -- .tradewindignore ---------------------------------------------------------------------------


def test_tradewindignore_skips_matching_files_and_folders(run_cli, dags_folder, write_dag):
    write_dag(dags_folder, "kept.py", simple_dag("kept_dag"))
    write_dag(dags_folder, "test_kept_helpers.py", simple_dag("ignored_by_name", raises=True))
    write_dag(dags_folder, "scratch/experiment.py", simple_dag("ignored_by_folder", raises=True))
    write_dag(dags_folder, "legacy/old.py", simple_dag("ignored_by_path", raises=True))
    write_dag(dags_folder, "current/fresh.py", simple_dag("other_kept_dag"))
    write_dag(dags_folder, "team/test_nested.py", simple_dag("ignored_nested_name", raises=True))
    (dags_folder / ".tradewindignore").write_text(
        "# files the loader must not import\ntest_*.py\nscratch/\nlegacy/*.py  # only the top level of legacy\n",
        encoding="utf-8",
    )

    listed = run_cli("dags", "list", "--dags-folder", dags_folder, "-o", "json")
    errors = run_cli("dags", "list-import-errors", "--dags-folder", dags_folder, "-o", "json")

    assert listed.returncode == 0, describe(listed)
    assert sorted(dag_ids(listed)) == ["kept_dag", "other_kept_dag"]
    assert errors.returncode == 0, describe(errors)
    assert parse_json(errors) == []


def test_tradewindignore_star_does_not_cross_folders(run_cli, dags_folder, write_dag):
    """As in gitignore / Airflow's glob .airflowignore, ``*`` in ``legacy/*.py`` stops at a slash."""
    write_dag(dags_folder, "legacy/old.py", simple_dag("ignored_by_path", raises=True))
    write_dag(dags_folder, "legacy/keep/current.py", simple_dag("nested_kept_dag"))
    (dags_folder / ".tradewindignore").write_text("legacy/*.py\n", encoding="utf-8")

    listed = run_cli("dags", "list", "--dags-folder", dags_folder, "-o", "json")

    assert listed.returncode == 0, describe(listed)
    assert dag_ids(listed) == ["nested_kept_dag"]


def test_without_tradewindignore_those_files_are_imported(run_cli, dags_folder, write_dag):
    """The control for the test above: the same broken file is reported when nothing ignores it."""
    write_dag(dags_folder, "kept.py", simple_dag("kept_dag"))
    write_dag(dags_folder, "test_kept_helpers.py", simple_dag("ignored_by_name", raises=True))

    errors = run_cli("dags", "list-import-errors", "--dags-folder", dags_folder, "-o", "json")

    assert errors.returncode == 1, describe(errors)
    assert [Path(e["filename"]).name for e in parse_json(errors)] == ["test_kept_helpers.py"]


# -- Airflow 3 spellings ------------------------------------------------------------------------


def test_airflow3_imports_load_and_run(run_cli, dags_folder, write_dag):
    write_dag(
        dags_folder,
        "airflow3_style.py",
        """
        from datetime import datetime

        from airflow.sdk import dag, task
        from airflow.providers.standard.operators.bash import BashOperator
        from airflow.providers.standard.operators.empty import EmptyOperator
        from airflow.providers.standard.operators.python import PythonOperator


        def shout():
            print("shouting from PythonOperator")


        @dag(start_date=datetime(2025, 7, 1), schedule=None, tags=["af3"])
        def airflow3_style():
            start = EmptyOperator(task_id="start")
            say = BashOperator(task_id="say", bash_command="echo hello from bash")
            loud = PythonOperator(task_id="loud", python_callable=shout)

            @task
            def done(value):
                print(f"bash said: {value}")

            start >> say >> loud
            loud >> done(say.output)


        airflow3_style()
        """,
    )

    listed = run_cli("dags", "list", "--dags-folder", dags_folder, "-o", "json")
    assert listed.returncode == 0, describe(listed)
    assert parse_json(listed) == [
        {
            "dag_id": "airflow3_style",
            "file": "airflow3_style.py",
            "schedule": "None",
            "timetable": "NullTimetable",
            "timetable_chosen_by": "",
            "tags": ["af3"],
            "is_paused": False,
        }
    ]

    ran = run_cli("dags", "test", "airflow3_style", "--dags-folder", dags_folder, "-o", "json")
    assert ran.returncode == 0, describe(ran)
    states = {ti["task_id"]: ti["state"] for ti in parse_json(ran)["task_instances"]}
    assert states == {"start": "success", "say": "success", "loud": "success", "done": "success"}
    assert "shouting from PythonOperator" in ran.stderr
    assert "bash said: hello from bash" in ran.stderr
