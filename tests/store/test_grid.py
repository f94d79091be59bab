"""The UI's reads (store/grid.py) on a real SQLite file and a real PostgreSQL server: counts per
run, task and state; pages of a mapped task's instances filtered by state and label."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from tradewind.store import dag_versions as dv
from tradewind.store import grid
from tradewind.store import queries as q
from tradewind.store.engine import session_scope

DAY = datetime(2025, 7, 1, tzinfo=UTC)


def _dag(engine: Engine, dag_id: str, paused: bool = False) -> None:
    data = {"dag_id": dag_id, "tags": ["t"]}
    with session_scope(engine) as session:
        dv.store_versions(
            session, f"/dags/{dag_id}.py", [dv.DagVersionInput(dag_id, "a" * 64, data, "@daily", ["t"], 16, paused)]
        )


def _run(
    engine: Engine, dag_id: str, run_id: str, day: int, rows: list[dict[str, Any]], state: str = "success"
) -> None:
    when = DAY + timedelta(days=day)
    with session_scope(engine) as session:
        q.create_dag_run(
            session,
            dag_id=dag_id,
            run_id=run_id,
            logical_date=when,
            data_interval_start=when,
            data_interval_end=when,
            run_type="manual",
            state=state,
        )
        q.upsert_task_instances(session, [{"dag_id": dag_id, "run_id": run_id, "map_index": -1, **r} for r in rows])


def test_dag_page_searches_ids_literally_and_counts(engine: Engine) -> None:
    for dag_id in ("etl_a", "etl%b", "etlxc", "report"):
        _dag(engine, dag_id, paused=dag_id == "report")
    with session_scope(engine) as session:
        rows, total = grid.dag_page(session, limit=2)
        assert total == 4 and [r.dag_id for r in rows] == ["etl%b", "etl_a"]
        assert [r.dag_id for r in grid.dag_page(session, limit=2, offset=2)[0]] == ["etlxc", "report"]
        assert [r.dag_id for r in grid.dag_page(session, search="l_")[0]] == ["etl_a"]  # '_' is no wildcard
        assert [r.dag_id for r in grid.dag_page(session, search="%")[0]] == ["etl%b"]
        report = grid.dag_row(session, "report")
        assert report is not None and report.is_paused and report.tags == ["t"]
        assert grid.dag_row(session, "nope") is None


def test_recent_runs_newest_first_per_dag_and_grid_runs_oldest_first(engine: Engine) -> None:
    _dag(engine, "a")
    _dag(engine, "b")
    for day in range(6):
        _run(engine, "a", f"a{day}", day, [])
    _run(engine, "b", "b0", 0, [], state="failed")
    with session_scope(engine) as session:
        recent = grid.recent_runs(session, ["a", "b", "c"], per_dag=3)
        assert [r.run_id for r in recent["a"]] == ["a5", "a4", "a3"]
        assert [(r.run_id, r.state) for r in recent["b"]] == [("b0", "failed")]
        assert recent["c"] == []
        assert [r.run_id for r in grid.grid_runs(session, "a", limit=4)] == ["a2", "a3", "a4", "a5"]
        found = grid.get_run(session, "a", "a1")
        assert found is not None and found.logical_date == DAY + timedelta(days=1)


def test_grid_counts_per_run_task_and_state(engine: Engine) -> None:
    _dag(engine, "m")
    rows = [{"task_id": "gen", "state": "success"}]
    rows += [{"task_id": "proc", "map_index": i, "state": "failed" if i % 4 == 0 else "success"} for i in range(10)]
    rows += [{"task_id": "sum", "state": None}]
    _run(engine, "m", "r1", 0, rows, state="running")
    _run(engine, "m", "r2", 1, [{"task_id": "gen", "state": "running"}], state="running")
    with session_scope(engine) as session:
        counts = grid.grid_counts(session, "m", ["r1", "r2"])
    assert counts[("r1", "proc")].counts == {"failed": 3, "success": 7}
    assert counts[("r1", "proc")].mapped and counts[("r1", "proc")].total == 10
    assert counts[("r1", "proc")].state == "failed"
    assert not counts[("r1", "gen")].mapped and counts[("r1", "gen")].state == "success"
    assert counts[("r1", "sum")].counts == {None: 1} and counts[("r1", "sum")].state is None
    assert counts[("r2", "gen")].state == "running" and ("r2", "proc") not in counts


def test_instance_page_filters_by_state_label_and_index_with_pages(engine: Engine) -> None:
    _dag(engine, "m")
    rows = [
        {
            "task_id": "proc",
            "map_index": i,
            "state": None if i == 5 else ("failed" if i in (3, 7) else "success"),
            "rendered_map_index": f"file_{i}%.csv",
        }
        for i in range(12)
    ]
    _run(engine, "m", "r", 0, rows)
    with session_scope(engine) as session:
        page, total = grid.instance_page(session, "m", "r", "proc", limit=5, offset=5)
        assert total == 12 and [r.map_index for r in page] == [5, 6, 7, 8, 9]
        failed, n = grid.instance_page(session, "m", "r", "proc", states=["failed"])
        assert n == 2 and [r.map_index for r in failed] == [3, 7]
        waiting, _ = grid.instance_page(session, "m", "r", "proc", states=[None, "failed"])
        assert [r.map_index for r in waiting] == [3, 5, 7]
        by_label, _ = grid.instance_page(session, "m", "r", "proc", label="e_1")
        assert [r.label for r in by_label] == ["file_1%.csv", "file_10%.csv", "file_11%.csv"]
        assert grid.instance_page(session, "m", "r", "proc", label="e_1%.")[1] == 1  # % and _ are literal
        assert grid.instance_page(session, "m", "r", "proc", label="x_")[1] == 0
        one = grid.get_instance(session, "m", "r", "proc", 7)
        assert one is not None and one.state == "failed" and one.label == "file_7%.csv"
        assert grid.get_instance(session, "m", "r", "proc", 99) is None
        assert grid.instance_state_counts(session, "m", "r", "proc") == {None: 1, "failed": 2, "success": 9}
        assert len(grid.instance_page(session, "m", "r", "proc", limit=10_000)[0]) == 12  # capped at MAX_PAGE


def test_instance_xcoms_are_decoded(engine: Engine) -> None:
    _dag(engine, "m")
    _run(engine, "m", "r", 0, [{"task_id": "proc", "map_index": 2, "state": "success"}])
    with session_scope(engine) as session:
        q.set_xcoms(
            session,
            [
                {"dag_id": "m", "run_id": "r", "task_id": "proc", "map_index": 2, "value": (1, DAY)},
                {"dag_id": "m", "run_id": "r", "task_id": "proc", "map_index": 2, "key": "extra", "value": {"a": 1}},
            ],
        )
    with session_scope(engine) as session:
        assert grid.instance_xcoms(session, "m", "r", "proc", 2) == {"extra": {"a": 1}, "return_value": (1, DAY)}
        assert grid.instance_xcoms(session, "m", "r", "proc", 0) == {}


def test_neighbours_of_a_map_index(engine: Engine) -> None:
    _dag(engine, "m")
    states = {0: "success", 2: "failed", 4: "success", 6: "upstream_failed", 8: "success"}
    _run(engine, "m", "r", 0, [{"task_id": "p", "map_index": i, "state": s} for i, s in states.items()])
    with session_scope(engine) as session:
        assert grid.neighbours(session, "m", "r", "p", 4) == grid.Neighbours(2, 6, 6)
        assert grid.neighbours(session, "m", "r", "p", 6) == grid.Neighbours(4, 8, 2)  # wraps
        assert grid.neighbours(session, "m", "r", "p", 0) == grid.Neighbours(None, 2, 2)
        assert grid.neighbours(session, "m", "r", "p", 2).next_failed == 6
        assert grid.neighbours(session, "m", "r", "q", 0) == grid.Neighbours(None, None, None)
