"""The asset tables (migration 0009) behind store/assets.py, on SQLite and PostgreSQL: events
recorded and queued per consumer, the queue consumed once by the run that links its events,
aliases resolved to their assets, and the reads of the CLI and the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.store import assets as store
from tradewind.store import queries as q
from tradewind.store.engine import session_scope

T0 = datetime(2026, 11, 30, 12, tzinfo=UTC)
ORDERS = {"name": "orders", "uri": "s3://shop/orders", "group": "asset", "asset_extra": {"owner": "ana"}}


def consumers(key: tuple[str, str], alias: str | None) -> list[str]:
    return ["report"] if key == ("orders", "s3://shop/orders") else (["daily"] if alias == "by_day" else [])


def test_events_queue_their_consumers_once_and_a_run_consumes_them(engine: Engine) -> None:
    with session_scope(engine) as session:
        for dag_id in ("report", "daily", "make"):
            q.upsert_dag(session, dag_id=dag_id, fileloc=f"/dags/{dag_id}.py", schedule="Asset", tags=[])
    key = TaskInstanceKey("make", "run_1", "write", -1, 1)
    with session_scope(engine) as session:
        store.record_events(session, key, [{**ORDERS, "extra": {"rows": 1}, "alias": None}], consumers, T0)
        store.record_events(
            session,
            key,
            [
                {**ORDERS, "extra": {"rows": 2}, "alias": None},
                {"name": "d1", "uri": "d1", "extra": {}, "alias": "by_day"},
            ],
            consumers,
            T0 + timedelta(seconds=1),
        )
    with session_scope(engine) as session:
        queued = store.queued(session)
        assert queued == {
            "report": {("orders", "s3://shop/orders"): T0},
            "daily": {("d1", "d1"): T0 + timedelta(seconds=1)},
        }
        assert store.alias_assets(session, ["by_day", "none"]) == {"by_day": {("d1", "d1")}, "none": set()}
        q.create_dag_run(
            session,
            dag_id="report",
            run_id="asset_triggered__1",
            logical_date=None,
            data_interval_start=None,
            data_interval_end=None,
            run_type="asset_triggered",
            run_after=T0,
        )
        assert (
            store.consume_queue(session, "report", "asset_triggered__1", [("orders", "s3://shop/orders")], [], T0) == 1
        )
    with session_scope(engine) as session:
        assert set(store.queued(session)) == {"daily"}
        consumed = store.consumed_events(session, "report", "asset_triggered__1")
        assert [(e["name"], e["extra"], e["source_task_id"]) for e in consumed] == [("orders", {"rows": 1}, "write")]
        newest = store.events(session, uri="s3://shop/orders", newest_first=True, limit=1)
        assert [e["extra"] for e in newest] == [{"rows": 2}]
        assert [e["aliases"] for e in store.events(session, alias="by_day")] == [["by_day"]]
        listed = {a["name"]: (a["events"], a["queued_for"], a["extra"]) for a in store.list_assets(session)}
        assert listed == {"orders": (2, [], {"owner": "ana"}), "d1": (1, ["daily"], {})}
