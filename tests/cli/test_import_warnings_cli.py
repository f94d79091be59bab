"""End to end: the DAG processor stores import warnings with the DAG's version,
``tradewind dags list-import-warnings`` lists them, ``dags test`` prints them, and ``dags show``
shows edge labels."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow  # runs the tradewind command

SOURCE = """
from datetime import datetime
from airflow.sdk import DAG, Label
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("warned", start_date=datetime(2025, 1, 1), schedule=None, access_control={"Viewer": {"can_read"}}):
    check = EmptyOperator(task_id="check", run_as_user="etl")
    check >> Label("all good") >> EmptyOperator(task_id="load")

with DAG("clean", start_date=datetime(2025, 1, 1), schedule=None):
    EmptyOperator(task_id="only")
"""


def test_import_warnings_are_stored_listed_and_printed(run_cli, dags_folder, write_dag) -> None:
    write_dag(dags_folder, "warned.py", SOURCE)
    listed = run_cli("dags", "list-import-warnings", "--dags-folder", dags_folder, "-o", "json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {
            "dag_id": "warned",
            "file": "warned.py",
            "warning": "DAG argument access_control is ignored: tradewind has no per-DAG permissions",
        },
        {
            "dag_id": "warned",
            "file": "warned.py",
            "warning": "task argument run_as_user (set on task 'check') is ignored: tasks run as the user running "
            "tradewind",
        },
    ]
    tested = run_cli("dags", "test", "warned", "--dags-folder", dags_folder)
    assert tested.returncode == 0, tested.stderr
    assert "Warning: DAG 'warned': DAG argument access_control is ignored" in tested.stderr
    shown = run_cli("dags", "show", "warned", "--dags-folder", dags_folder)
    assert "check >> load  [all good]" in shown.stdout
    dot = run_cli("dags", "show", "warned", "--dags-folder", dags_folder, "--format", "dot")
    assert '"check" -> "load" [label="all good"];' in dot.stdout
