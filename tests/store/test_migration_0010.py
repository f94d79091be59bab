"""Migration 0010 (``dag_run.callback_request``, ``dag_run.triggered_by``) keeps every run, task
instance and XCom, both ways, on SQLite and PostgreSQL (the ``engine`` fixture)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect
from tests.store.test_store_contract import add_dag, add_run, ti

from tradewind.store import queries as q
from tradewind.store.engine import _alembic_config, current_revision, head_revision, migrate, session_scope
from tradewind.store.models import DagRun


def columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("dag_run")}


def test_migration_0010_adds_two_columns_and_goes_back_keeping_the_runs(engine: Engine) -> None:
    add_dag(engine)
    add_run(engine)
    with session_scope(engine) as session:
        q.upsert_task_instances(session, [ti("a", state="success")])
        q.set_xcoms(session, [{**ti("a"), "value": 7}])
        run = q.get_dag_run(session, "etl", "manual__1")
        assert run is not None
        run.callback_request = {"success": True, "reason": "success", "task_id": "a", "map_index": -1}
    assert {"callback_request", "triggered_by"} <= columns(engine)

    with engine.connect() as connection:
        command.downgrade(_alembic_config(connection), "0009")
        connection.commit()
    assert current_revision(engine) == "0009"
    assert not {"callback_request", "triggered_by"} & columns(engine)
    assert migrate(engine) == head_revision()
    with session_scope(engine) as session:
        [run] = q.list_dag_runs(session, "etl")
        assert (run.run_id, run.callback_request, run.triggered_by) == ("manual__1", None, None)
        assert [(t.task_id, t.state) for t in q.list_task_instances(session, "etl", "manual__1")] == [("a", "success")]
        assert [x.value for x in q.get_xcoms(session, "etl", "manual__1")] == [7]
        assert session.query(DagRun).filter(DagRun.callback_request.is_not(None)).count() == 0
