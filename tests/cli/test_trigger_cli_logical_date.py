"""``tradewind dags trigger`` without ``--logical-date`` and ``dags list-runs``: a DAG of an
Airflow 3 file gets a run without a logical date, as Airflow 3 makes it; an Airflow 2 DAG gets
the trigger time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from clikit import cli, home_with_dags

pytestmark = pytest.mark.slow  # the DAG processor imports the files in child processes

FILES = {
    "airflow3.py": """
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.empty import EmptyOperator

        with DAG("by_hand", schedule=None):
            EmptyOperator(task_id="t")
    """,
    "airflow2.py": """
        import pendulum
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator

        with DAG("old_style", schedule_interval=None, start_date=pendulum.datetime(2025, 1, 1)):
            EmptyOperator(task_id="t")
    """,
}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with home_with_dags(tmp_path_factory.mktemp("trigger"), FILES, COLUMNS="250"):
        yield


def test_an_airflow_3_dag_gets_a_run_without_a_logical_date(env: None) -> None:
    before = datetime.now(UTC)
    code, out, err = cli("dags", "trigger", "by_hand", "-o", "json")
    assert code == 0, err
    printed = json.loads(out)
    assert printed["logical_date"] is None
    run_after = datetime.fromisoformat(printed["run_id"].removeprefix("manual__"))
    assert before <= run_after <= datetime.now(UTC)
    code, out, err = cli("dags", "trigger", "by_hand", "--logical-date", "2025-03-01")
    assert code == 0, err
    assert "Queued run manual__2025-03-01T00:00:00+00:00 of by_hand" in out

    code, out, err = cli("dags", "list-runs", "by_hand", "-o", "json")
    assert code == 0, err
    runs = {r["run_id"]: r for r in json.loads(out)}
    assert runs[printed["run_id"]]["logical_date"] is None
    assert runs[printed["run_id"]]["run_after"] == run_after.isoformat()
    assert runs["manual__2025-03-01T00:00:00+00:00"]["logical_date"] == "2025-03-01T00:00:00+00:00"
    assert list(runs) == [printed["run_id"], "manual__2025-03-01T00:00:00+00:00"]  # newest first

    code, table, _ = cli("dags", "list-runs", "by_hand")
    header, *lines = [line for line in table.splitlines() if "run_id" in line or "manual__" in line]
    cells = [cell.strip() for cell in header.strip("┃│ ").split("┃" if "┃" in header else "│")]
    assert cells[:5] == ["run_id", "state", "run_type", "run_after", "logical_date"]
    row = [cell.strip() for cell in lines[0].strip("┃│ ").split("│")]
    assert row[0] == printed["run_id"] and row[4] == ""
    assert row[3] == run_after.strftime("%Y-%m-%d %H:%M:%S")  # tables show times to the second, in UTC

    code, out, _ = cli("dags", "show", "by_hand")
    assert "Manual runs: without --logical-date, no logical date (an Airflow 3 file, as in Airflow 3)" in out


def test_an_airflow_2_dag_gets_the_trigger_time(env: None) -> None:
    before = datetime.now(UTC)
    code, out, err = cli("dags", "trigger", "old_style", "-o", "json")
    assert code == 0, err
    printed = json.loads(out)
    logical_date = datetime.fromisoformat(printed["logical_date"])
    assert before <= logical_date <= datetime.now(UTC)
    assert printed["run_id"] == f"manual__{printed['logical_date']}"
    code, out, _ = cli("dags", "show", "old_style")
    assert "Manual runs:" not in out
