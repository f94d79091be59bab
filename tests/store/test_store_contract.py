"""What a user of the store sees, on a real SQLite file and on a real PostgreSQL server.

Every test here runs twice, through the ``engine`` fixture (tests/store/conftest.py): once on a
SQLite file in tmp_path and once on the session's throwaway PostgreSQL server (marked slow).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pendulum
import pytest
from sqlalchemy import Engine, MetaData, event, inspect

from tradewind.definitions.states import TaskInstanceState
from tradewind.errors import TradewindError
from tradewind.store import (
    DagRunAlreadyExists,
    DagRunNotFound,
    current_revision,
    head_revision,
    make_engine,
    migrate,
    reset,
    session_scope,
)
from tradewind.store import dag_versions as dv
from tradewind.store import queries as q
from tradewind.store.models import Base

PLUS_TWO = timezone(timedelta(hours=2))
DAY = datetime(2025, 7, 1, tzinfo=UTC)


def add_dag(engine: Engine, dag_id: str = "etl", **kwargs: Any) -> None:
    values: dict[str, Any] = {"fileloc": f"/dags/{dag_id}.py", "schedule": "@daily", "tags": ["team-a"]}
    values.update(kwargs)
    with session_scope(engine) as session:
        q.upsert_dag(session, dag_id=dag_id, **values)


def add_run(engine: Engine, dag_id: str = "etl", run_id: str = "manual__1", **kwargs: Any) -> None:
    values: dict[str, Any] = {
        "logical_date": DAY,
        "data_interval_start": DAY - timedelta(days=1),
        "data_interval_end": DAY,
        "run_type": "manual",
    }
    values.update(kwargs)
    with session_scope(engine) as session:
        q.create_dag_run(session, dag_id=dag_id, run_id=run_id, **values)


def assert_utc(value: datetime | None, expected: datetime) -> None:
    assert value is not None
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0), value
    assert value == expected


def ti(task_id: str, map_index: int = -1, **values: Any) -> dict[str, Any]:
    return {"dag_id": "etl", "run_id": "manual__1", "task_id": task_id, "map_index": map_index, **values}


class TestStoreContract:
    # --- schema ----------------------------------------------------------------------------------

    def test_migrate_again_is_a_no_op_that_keeps_data(self, engine: Engine) -> None:
        add_dag(engine)
        tables = sorted(inspect(engine).get_table_names())
        assert current_revision(engine) == head_revision()
        assert migrate(engine) == head_revision()
        assert migrate(engine) == head_revision()
        assert sorted(inspect(engine).get_table_names()) == tables
        with session_scope(engine) as session:
            assert [d.dag_id for d in q.list_dags(session)] == ["etl"]

    def test_migrations_build_exactly_the_models(self, engine: Engine) -> None:
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == []

    def test_reset_wipes_everything_and_migrates_again(self, engine: Engine) -> None:
        add_dag(engine)
        add_run(engine)
        with session_scope(engine) as session:
            q.set_pool(session, "gpu", 2)
        assert reset(engine) == head_revision()
        assert current_revision(engine) == head_revision()
        with session_scope(engine) as session:
            assert q.list_dags(session) == []
            assert q.list_dag_runs(session, None) == []
            assert [(p.name, p.slots) for p in q.get_pools(session)] == [("default_pool", 128)]

    def test_concurrent_migrations_of_an_empty_database_all_succeed(self, engine: Engine) -> None:
        with engine.begin() as connection:  # back to an empty database
            found = MetaData()
            found.reflect(connection)
            found.drop_all(connection)
        assert current_revision(engine) is None
        results: list[object] = []

        def run() -> None:
            own = make_engine(str(engine.url.render_as_string(hide_password=False)))
            try:
                results.append(migrate(own))
            except Exception as exc:  # pragma: no cover - reported by the assert below
                results.append(exc)
            finally:
                own.dispose()

        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert results == [head_revision()] * 4
        with session_scope(engine) as session:
            assert [p.name for p in q.get_pools(session)] == ["default_pool"]

    def test_default_pool_exists_and_pools_can_be_set(self, engine: Engine) -> None:
        with session_scope(engine) as session:
            pools = q.get_pools(session)
            assert [(p.name, p.slots) for p in pools] == [("default_pool", 128)]
            q.set_pool(session, "gpu", 2, "the one GPU box")
        with session_scope(engine) as session:
            q.set_pool(session, "gpu", 4)
        with session_scope(engine) as session:
            got = {p.name: (p.slots, p.description) for p in q.get_pools(session)}
        assert got == {"default_pool": (128, "Default pool"), "gpu": (4, "the one GPU box")}

    # --- DAGs and import errors ------------------------------------------------------------------

    def test_dag_upsert_keeps_pause_flag_and_refreshes_fields(self, engine: Engine) -> None:
        add_dag(engine, "etl", serialized={"tasks": [{"task_id": "a"}]}, max_active_runs=3)
        add_dag(engine, "paused_at_birth", is_paused_upon_creation=True)
        with session_scope(engine) as session:
            assert q.set_paused(session, "etl", True) is True
            assert q.set_paused(session, "no_such_dag", True) is False
        add_dag(engine, "etl", tags=["b", "a"], schedule="@hourly", is_paused_upon_creation=False)
        with session_scope(engine) as session:
            etl = q.get_dag(session, "etl")
            assert etl is not None
            assert etl.is_paused is True
            assert (etl.schedule, etl.tags, etl.fileloc) == ("@hourly", ["b", "a"], "/dags/etl.py")
            assert etl.is_active is True
            assert etl.last_parsed_at is not None and etl.last_parsed_at.tzinfo is not None
            assert q.get_dag(session, "paused_at_birth").is_paused is True  # type: ignore[union-attr]
            q.set_paused(session, "etl", False)
        with session_scope(engine) as session:
            assert q.get_dag(session, "etl").is_paused is False  # type: ignore[union-attr]
            assert q.get_dag(session, "missing") is None

    def test_dag_serialized_structure_round_trips(self, engine: Engine) -> None:
        structure = {"dag_id": "etl", "tasks": [{"task_id": "load", "upstream": ["extract"], "mapped": True}]}
        add_dag(engine, serialized=structure, max_active_runs=2)
        with session_scope(engine) as session:
            dag = q.get_dag(session, "etl")
            assert dag is not None
            assert (dag.serialized, dag.max_active_runs) == (structure, 2)

    def test_dags_missing_from_the_folder_become_inactive(self, engine: Engine) -> None:
        for dag_id in ("a", "b", "c"):
            add_dag(engine, dag_id)
        with session_scope(engine) as session:
            dv.deactivate(session, {"b"})
        with session_scope(engine) as session:
            assert [(d.dag_id, d.is_active) for d in q.list_dags(session)] == [("a", True), ("b", False), ("c", True)]
            assert [d.dag_id for d in q.list_dags(session, only_active=True)] == ["a", "c"]
        add_dag(engine, "b")  # its file is back
        with session_scope(engine) as session:
            dv.deactivate(session, {"a", "b", "c"})
            assert q.list_dags(session, only_active=True) == []

    def test_next_dagrun_is_stored_as_aware_utc(self, engine: Engine) -> None:
        add_dag(engine)
        start = datetime(2025, 7, 1, 2, 0, tzinfo=PLUS_TWO)
        with session_scope(engine) as session:
            q.update_dag_rows(
                session,
                [
                    {
                        "dag_id": "etl",
                        "next_dagrun": start,
                        "next_dagrun_data_interval_start": start,
                        "next_dagrun_data_interval_end": start + timedelta(days=1),
                    }
                ],
            )
        with session_scope(engine) as session:
            dag = q.get_dag(session, "etl")
            assert dag is not None
            assert_utc(dag.next_dagrun, datetime(2025, 7, 1, 0, 0, tzinfo=UTC))
            assert_utc(dag.next_dagrun_data_interval_end, datetime(2025, 7, 2, 0, 0, tzinfo=UTC))

    def test_import_errors_are_replaced_by_the_latest_parse_of_their_file(self, engine: Engine) -> None:
        with session_scope(engine) as session:
            dv.set_import_error(session, "/dags/b.py", "SyntaxError: b")
            dv.set_import_error(session, "/dags/a.py", "NameError: a")
        with session_scope(engine) as session:
            errors = q.list_import_errors(session)
            assert [(e.filename, e.error) for e in errors] == [
                ("/dags/a.py", "NameError: a"),
                ("/dags/b.py", "SyntaxError: b"),
            ]
            assert all(e.timestamp.tzinfo is not None for e in errors)
            dv.set_import_error(session, "/dags/a.py", None)
            dv.set_import_error(session, "/dags/b.py", "ImportError: still b")
        with session_scope(engine) as session:
            assert [(e.filename, e.error) for e in q.list_import_errors(session)] == [
                ("/dags/b.py", "ImportError: still b")
            ]
            dv.set_import_error(session, "/dags/b.py", None)
            assert q.list_import_errors(session) == []

    # --- runs ------------------------------------------------------------------------------------

    def test_dag_run_round_trip_keeps_aware_utc_datetimes(self, engine: Engine) -> None:
        add_dag(engine)
        logical = pendulum.datetime(2025, 7, 1, 9, 30, tz="Europe/Paris")
        add_run(
            engine,
            logical_date=logical,
            data_interval_start=datetime(2025, 6, 30, 9, 30, 0, 123456, tzinfo=PLUS_TWO),
            data_interval_end=logical,
            conf={"limit": 5, "names": ["a", "é"]},
        )
        with session_scope(engine) as session:
            run = q.get_dag_run(session, "etl", "manual__1")
        assert run is not None  # read after its session closed: still usable
        assert_utc(run.logical_date, datetime(2025, 7, 1, 7, 30, tzinfo=UTC))
        assert_utc(run.data_interval_start, datetime(2025, 6, 30, 7, 30, 0, 123456, tzinfo=UTC))
        assert type(run.logical_date) is datetime
        assert (run.run_type, run.state, run.conf) == ("manual", "queued", {"limit": 5, "names": ["a", "é"]})
        assert run.queued_at is not None and run.queued_at.tzinfo is not None
        assert run.start_date is None and run.end_date is None

    def test_naive_datetimes_are_refused(self, engine: Engine) -> None:
        add_dag(engine)
        with pytest.raises(Exception, match="naive datetime 2025-07-01T00:00:00 cannot be stored"):
            add_run(engine, logical_date=datetime(2025, 7, 1))

    def test_duplicate_run_id_is_a_clear_error_and_the_session_goes_on(self, engine: Engine) -> None:
        add_dag(engine)
        add_run(engine)
        with session_scope(engine) as session:
            with pytest.raises(DagRunAlreadyExists, match="DAG 'etl' already has a run with run_id 'manual__1'"):
                q.create_dag_run(
                    session, dag_id="etl", run_id="manual__1", logical_date=DAY,
                    data_interval_start=None, data_interval_end=None, run_type="manual",
                )  # fmt: skip
            q.create_dag_run(
                session, dag_id="etl", run_id="manual__2", logical_date=DAY,
                data_interval_start=None, data_interval_end=None, run_type="manual",
            )  # fmt: skip
        assert issubclass(DagRunAlreadyExists, TradewindError)
        with session_scope(engine) as session:
            assert sorted(r.run_id for r in q.list_dag_runs(session, "etl")) == ["manual__1", "manual__2"]

    def test_list_dag_runs_filters_by_dag_and_state_in_date_order(self, engine: Engine) -> None:
        add_dag(engine, "etl")
        add_dag(engine, "other")
        for day in (3, 1, 2):
            add_run(engine, "etl", f"scheduled__{day}", logical_date=DAY + timedelta(days=day), run_type="scheduled")
        add_run(engine, "other", "backfill__1", run_type="backfill")
        with session_scope(engine) as session:
            q.update_dag_run(session, "etl", "scheduled__2", state="running", start_date=DAY)
            newest_first = [r.run_id for r in q.list_dag_runs(session, "etl")]
            oldest_first = [r.run_id for r in q.list_dag_runs(session, "etl", oldest_first=True)]
            queued = [r.run_id for r in q.list_dag_runs(session, "etl", states=["queued"])]
            every_dag = {(r.dag_id, r.run_id) for r in q.list_dag_runs(session, None, states=["queued", "running"])}
        assert newest_first == ["scheduled__3", "scheduled__2", "scheduled__1"]
        assert oldest_first == ["scheduled__1", "scheduled__2", "scheduled__3"]
        assert queued == ["scheduled__3", "scheduled__1"]
        assert len(every_dag) == 4 and ("other", "backfill__1") in every_dag

    def test_runs_without_a_logical_date_coexist_and_sort_by_run_after(self, engine: Engine) -> None:
        """An Airflow 3 trigger without a logical date: any number of such runs, each its run id."""
        add_dag(engine)
        add_run(engine, "etl", "scheduled__2", logical_date=DAY + timedelta(days=2), run_type="scheduled")
        for hours in (12, 60):
            after = DAY + timedelta(hours=hours)
            add_run(
                engine,
                "etl",
                f"manual__{after.isoformat()}",
                logical_date=None,
                data_interval_start=None,
                data_interval_end=None,
                run_after=after,
            )
        with pytest.raises(DagRunAlreadyExists):
            add_run(engine, "etl", "manual__2025-07-01T12:00:00+00:00", logical_date=None, run_after=DAY)
        with session_scope(engine) as session:
            newest_first = [(r.run_id, r.logical_date, r.run_after) for r in q.list_dag_runs(session, "etl")]
            oldest_first = [r.run_id for r in q.list_dag_runs(session, "etl", oldest_first=True)]
        assert newest_first == [
            ("manual__2025-07-03T12:00:00+00:00", None, DAY + timedelta(hours=60)),
            ("scheduled__2", DAY + timedelta(days=2), DAY + timedelta(days=2)),  # run_after: its logical date
            ("manual__2025-07-01T12:00:00+00:00", None, DAY + timedelta(hours=12)),
        ]
        assert oldest_first == [run_id for run_id, _, _ in reversed(newest_first)]

    def test_migration_0008_keeps_runs_instances_and_xcoms_and_goes_back(self, engine: Engine) -> None:
        from alembic import command
        from sqlalchemy import insert

        from tradewind.store.engine import _alembic_config
        from tradewind.store.models import DagRun

        with engine.connect() as connection:
            command.downgrade(_alembic_config(connection), "0007")
            connection.commit()
        assert current_revision(engine) == "0007"
        add_dag(engine)
        queued = DAY + timedelta(hours=5)
        with session_scope(engine) as session:
            for run_id, run_type, start, end in (
                ("manual__1", "manual", DAY - timedelta(days=1), DAY),
                ("scheduled__1", "scheduled", DAY, DAY + timedelta(days=1)),
                ("scheduled__2", "scheduled", None, None),
            ):
                session.execute(
                    insert(DagRun).values(
                        dag_id="etl",
                        run_id=run_id,
                        logical_date=DAY,
                        data_interval_start=start,
                        data_interval_end=end,
                        run_type=run_type,
                        conf={},
                        state="success",
                        queued_at=queued,
                    )
                )
            q.upsert_task_instances(session, [ti("a", state="success")])
            q.set_xcoms(session, [{**ti("a"), "value": 7}])

        assert migrate(engine) == head_revision() == "0009"
        if engine.dialect.name == "sqlite":  # the table definition was edited in place: still sound
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
                assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        add_run(engine, "etl", "manual__none", logical_date=None, run_after=DAY)
        with session_scope(engine) as session:
            runs = {r.run_id: (r.logical_date, r.run_after) for r in q.list_dag_runs(session, "etl")}
            assert [(t.task_id, t.state) for t in q.list_task_instances(session, "etl", "manual__1")] == [
                ("a", "success")
            ]
            assert [x.value for x in q.get_xcoms(session, "etl", "manual__1")] == [7]
        assert runs == {
            "manual__1": (DAY, queued),  # a manual run: when it was queued
            "scheduled__1": (DAY, DAY + timedelta(days=1)),  # the end of its data interval
            "scheduled__2": (DAY, DAY),  # no interval: its logical date
            "manual__none": (None, DAY),
        }

        with engine.connect() as connection:
            command.downgrade(_alembic_config(connection), "0007")
            connection.commit()
        with session_scope(engine) as session:
            kept = session.execute(DagRun.__table__.select().with_only_columns(DagRun.run_id, DagRun.logical_date))
            assert dict(kept.all())["manual__none"] == DAY  # back to what tradewind gave it before
            assert len(q.list_task_instances(session, "etl", "manual__1")) == 1
        assert migrate(engine) == "0009"

    def test_update_dag_run_changes_only_given_fields(self, engine: Engine) -> None:
        add_dag(engine)
        add_run(engine)
        started = datetime(2025, 7, 1, 12, tzinfo=PLUS_TWO)
        with session_scope(engine) as session:
            q.update_dag_run(session, "etl", "manual__1", state="running", start_date=started)
        with session_scope(engine) as session:
            q.update_dag_run(session, "etl", "manual__1", state="failed", end_date=started + timedelta(hours=1))
        with session_scope(engine) as session:
            q.update_dag_run(session, "etl", "manual__1", state="queued", end_date=None)
            with pytest.raises(DagRunNotFound, match="DAG 'etl' has no run with run_id 'nope'"):
                q.update_dag_run(session, "etl", "nope", state="running")
        with session_scope(engine) as session:
            run = q.get_dag_run(session, "etl", "manual__1")
        assert run is not None
        assert (run.state, run.end_date) == ("queued", None)
        assert_utc(run.start_date, datetime(2025, 7, 1, 10, tzinfo=UTC))

    # --- task instances --------------------------------------------------------------------------

    def test_batched_upsert_inserts_then_updates_given_fields(self, engine: Engine) -> None:
        add_dag(engine)
        add_run(engine)
        statements: list[tuple[str, bool]] = []

        def count(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
            if "task_instance" in statement:
                statements.append((statement.split()[0], executemany))

        started = datetime(2025, 7, 1, 10, tzinfo=PLUS_TWO)
        event.listen(engine, "before_cursor_execute", count)
        try:
            with session_scope(engine) as session:
                written = q.upsert_task_instances(
                    session,
                    [ti("extract", state="success", try_number=1, start_date=started, rendered_map_index=None)]
                    + [ti("load", i, state="scheduled", try_number=0, start_date=None, rendered_map_index=f"file {i}")
                       for i in range(3)],
                )  # fmt: skip
                assert written == 4
            with session_scope(engine) as session:
                q.upsert_task_instances(
                    session,
                    [ti("load", i, state=TaskInstanceState.RUNNING, try_number=1, start_date=started) for i in (0, 2)],
                )
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert statements == [("INSERT", True), ("INSERT", True)]  # one batched statement per call
        with session_scope(engine) as session:
            rows = q.list_task_instances(session, "etl", "manual__1")
        got = [(r.task_id, r.map_index, r.state, r.try_number, r.rendered_map_index) for r in rows]
        assert got == [
            ("extract", -1, "success", 1, None),
            ("load", 0, "running", 1, "file 0"),
            ("load", 1, "scheduled", 0, "file 1"),
            ("load", 2, "running", 1, "file 2"),
        ]
        assert_utc(rows[0].start_date, datetime(2025, 7, 1, 8, tzinfo=UTC))
        assert rows[0].duration is None and rows[0].max_tries == 0
        assert rows[2].start_date is None

    def test_upsert_of_many_mapped_instances_in_one_call(self, engine: Engine) -> None:
        add_dag(engine)
        add_run(engine)
        with session_scope(engine) as session:
            q.upsert_task_instances(session, [ti("process", i, state="scheduled") for i in range(5000)])
        with session_scope(engine) as session:
            q.upsert_task_instances(session, [ti("process", i, state="success") for i in range(0, 5000, 2)])
        with session_scope(engine) as session:
            rows = q.list_task_instances(session, "etl", "manual__1", task_ids=["process"])
        assert [r.map_index for r in rows] == list(range(5000))
        assert sum(r.state == "success" for r in rows) == 2500

    def test_upsert_rejects_unknown_fields_and_states(self, engine: Engine) -> None:
        with session_scope(engine) as session:
            with pytest.raises(TradewindError, match=r"unknown field\(s\) \['colour'\]"):
                q.upsert_task_instances(session, [ti("a", colour="red")])
            with pytest.raises(TradewindError, match="unknown task instance state 'done'"):
                q.upsert_task_instances(session, [ti("a", state="done")])

    def test_clearing_instances_resets_state_and_drops_xcoms(self, engine: Engine) -> None:
        add_dag(engine)
        add_run(engine)
        ended = datetime(2025, 7, 1, 11, tzinfo=UTC)
        with session_scope(engine) as session:
            q.upsert_task_instances(
                session,
                [ti(t, state="failed", try_number=2, end_date=ended, error="boom", hostname="h") for t in ("a", "b")],
            )
            q.set_xcoms(session, [{**ti("a"), "value": 1}, {**ti("b"), "value": 2}])
        with session_scope(engine) as session:
            q.reset_task_instances(session, "etl", "manual__1", [("a", -1)])
        with session_scope(engine) as session:
            a, b = q.list_task_instances(session, "etl", "manual__1")
            assert (a.state, a.try_number, a.end_date, a.error, a.hostname) == (None, 2, None, None, None)
            assert (b.state, b.error) == ("failed", "boom")
            assert [(x.task_id, x.value) for x in q.get_xcoms(session, "etl", "manual__1")] == [("b", 2)]

    def test_deleting_placeholder_instances_of_an_expanded_task(self, engine: Engine) -> None:
        add_dag(engine)
        add_run(engine)
        with session_scope(engine) as session:
            q.upsert_task_instances(session, [ti("load", -1), ti("other", -1)] + [ti("load", i) for i in range(2)])
            assert q.delete_task_instances(session, "etl", "manual__1", task_ids={"load"}, map_index=-1) == 1
        with session_scope(engine) as session:
            left = [(r.task_id, r.map_index) for r in q.list_task_instances(session, "etl", "manual__1")]
            assert left == [("load", 0), ("load", 1), ("other", -1)]
            assert q.delete_task_instances(session, "etl", "manual__1") == 3
            assert q.list_task_instances(session, "etl", "manual__1") == []

    # --- XComs -----------------------------------------------------------------------------------

    def test_xcom_values_round_trip_as_json(self, engine: Engine) -> None:
        add_dag(engine)
        add_run(engine)
        values: list[Any] = [
            {"z": 1, "a": [1, 2.5, None, True], "nested": {"ünïcode": "✓", "big": 2**53}},
            ["x", "y"],
            "text",
            0,
            None,
            False,
        ]
        with session_scope(engine) as session:
            q.upsert_task_instances(session, [ti("make", i) for i in range(len(values))] + [ti("pair")])
            q.set_xcoms(session, [{**ti("make", i), "value": v} for i, v in enumerate(values)])
            q.set_xcoms(session, [{**ti("pair"), "value": (1, 2)}, {**ti("pair"), "key": "extra", "value": "e"}])
        with session_scope(engine) as session:
            q.set_xcoms(session, [{**ti("make", 5), "value": "replaced"}])
        with session_scope(engine) as session:
            made = q.get_xcoms(session, "etl", "manual__1", task_ids=["make"])
            pair = q.get_xcoms(session, "etl", "manual__1", task_ids=["pair"])
        assert [(x.map_index, x.key, x.value) for x in made] == [
            (i, "return_value", v) for i, v in enumerate([*values[:5], "replaced"])
        ]
        assert list(made[0].value) == ["z", "a", "nested"]  # key order kept
        assert [(x.key, x.value) for x in pair] == [("extra", "e"), ("return_value", (1, 2))]  # a tuple stays one
