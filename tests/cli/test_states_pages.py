"""`tasks states-for-dag-run` on a wide run: a page at a time, filtered by state or task, and a
clear error for a run that does not exist."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradewind.cli.main import main
from tradewind.store import queries as q
from tradewind.store.engine import make_engine, migrate, session_scope


@pytest.fixture
def wide_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of 2,500 instances of `work` (every 100th failed) and one `total`, stored directly."""
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    engine = make_engine()
    migrate(engine)
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        q.upsert_dag(session, dag_id="wide", fileloc="/dags/wide.py", schedule=None)
        q.create_dag_run(
            session,
            dag_id="wide",
            run_id="r1",
            logical_date=moment,
            data_interval_start=moment,
            data_interval_end=moment,
            run_type="manual",
        )
        rows = [
            {"dag_id": "wide", "run_id": "r1", "task_id": "work", "map_index": i, "state": "success", "try_number": 1}
            for i in range(2500)
        ]
        for i in range(0, 2500, 100):
            rows[i]["state"] = "failed"
        rows.append({"dag_id": "wide", "run_id": "r1", "task_id": "total", "map_index": -1, "state": None})
        q.upsert_task_instances(session, rows)


def states(*args: str) -> tuple[list[dict[str, object]], str, int]:
    result = CliRunner().invoke(main, ["tasks", "states-for-dag-run", *args, "-o", "json"])
    out = result.stdout
    return (json.loads(out) if result.exit_code == 0 else []), result.stderr, result.exit_code


def test_a_wide_run_is_listed_a_page_at_a_time(wide_run: None) -> None:
    first, note, code = states("wide", "r1")
    assert code == 0 and len(first) == 1000
    assert [(r["task_id"], r["map_index"]) for r in first[:2]] == [("total", -1), ("work", 0)]
    assert "Showing 1-1000 of 2501 instances; more with --offset 1000" in note
    last, note, _ = states("wide", "r1", "--offset", "2000", "--limit", "1000")
    assert [r["map_index"] for r in last] == list(range(1999, 2500))
    assert note == ""
    everything, _, _ = states("wide", "r1", "--limit", "0")
    assert len(everything) == 2501


def test_filters_by_state_and_task(wide_run: None) -> None:
    failed, _, _ = states("wide", "r1", "--state", "failed")
    assert [r["map_index"] for r in failed] == list(range(0, 2500, 100))
    undecided, _, _ = states("wide", "r1", "--state", "none")
    assert [(r["task_id"], r["state"]) for r in undecided] == [("total", None)]
    work, _, _ = states("wide", "r1", "--task-id", "work", "--state", "failed", "--state", "success", "--limit", "0")
    assert len(work) == 2500


def test_a_run_that_does_not_exist_is_an_error(wide_run: None) -> None:
    _, error, code = states("wide", "bogus")
    assert code == 1
    assert "DAG 'wide' has no run with run_id 'bogus'" in error
