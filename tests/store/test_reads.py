"""The API's reads (store/reads.py) and users (auth) on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from tradewind.auth import authenticate, create_user, secret_key
from tradewind.store import queries as q
from tradewind.store import reads
from tradewind.store.engine import session_scope

DAY = datetime(2025, 7, 1, tzinfo=UTC)


def fill(engine: Engine) -> None:
    with session_scope(engine) as session:
        for dag_id, tags in (("etl_daily", ["team-a", "daily"]), ("etl_hourly", ["team-a"]), ("ml_100%", ["team-b"])):
            q.upsert_dag(session, dag_id=dag_id, fileloc=f"/dags/{dag_id}.py", schedule="@daily", tags=tags)
        q.set_paused(session, "etl_hourly", True)
        for n in range(3):
            q.create_dag_run(
                session,
                dag_id="etl_daily",
                run_id=f"run_{n}",
                logical_date=DAY + timedelta(days=n),
                data_interval_start=None,
                data_interval_end=None,
                run_type="manual" if n else "scheduled",
                state="failed" if n == 1 else "queued",
            )
        q.upsert_task_instances(
            session,
            [
                {"dag_id": "etl_daily", "run_id": f"run_{n}", "task_id": "work", "map_index": i, "state": state}
                for n in range(3)
                for i, state in enumerate(["success", "failed", "running", None])
            ],
        )
        q.set_xcoms(
            session,
            [{"dag_id": "etl_daily", "run_id": "run_0", "task_id": "work", "map_index": 0, "value": (1, "a")}],
        )


@pytest.mark.parametrize(
    ("kwargs", "ids", "total"),
    [
        ({}, ["etl_daily", "etl_hourly", "ml_100%"], 3),
        ({"dag_id_pattern": "ETL"}, ["etl_daily", "etl_hourly"], 2),
        ({"dag_id_pattern": "100%"}, ["ml_100%"], 1),
        ({"dag_id_pattern": "l_1"}, ["ml_100%"], 1),  # _ is literal too
        ({"dag_id_prefix": "etl_h"}, ["etl_hourly"], 1),
        ({"tags": ["team-a", "daily"]}, ["etl_daily", "etl_hourly"], 2),
        ({"tags": ["team-a", "daily"], "tags_match_all": True}, ["etl_daily"], 1),
        ({"paused": True}, ["etl_hourly"], 1),
        ({"order_by": ["-dag_id"], "limit": 1}, ["ml_100%"], 3),
        ({"offset": 2}, ["ml_100%"], 3),
    ],
)
def test_dag_pages(engine: Engine, kwargs: dict[str, object], ids: list[str], total: int) -> None:
    fill(engine)
    with session_scope(engine) as session:
        rows, found = reads.page_dags(session, **{"limit": 50, **kwargs})  # type: ignore[arg-type]
        assert ([r.dag_id for r in rows], found) == (ids, total)


def test_run_and_instance_pages(engine: Engine) -> None:
    fill(engine)
    with session_scope(engine) as session:
        runs, total = reads.page_dag_runs(session, "etl_daily", limit=2, order_by=["-logical_date"])
        assert ([r.run_id for r in runs], total) == (["run_2", "run_1"], 3)
        runs, total = reads.page_dag_runs(session, None, limit=10, states=["failed"], run_types=["manual"])
        assert ([r.run_id for r in runs], total) == (["run_1"], 1)
        runs, _ = reads.page_dag_runs(session, "etl_daily", limit=10, logical_date_gte=DAY + timedelta(days=1))
        assert sorted(r.run_id for r in runs) == ["run_1", "run_2"]
        with pytest.raises(reads.UnknownOrder, match="order_by 'conf' is not allowed"):
            reads.page_dag_runs(session, None, limit=1, order_by=["conf"])
        pairs, total = reads.page_task_instances_across_runs(session, "etl_daily", limit=2, states=["failed", None])
        assert total == 6
        assert [(ti.run_id, ti.map_index, run.run_id) for ti, run in pairs] == [
            ("run_2", 1, "run_2"),
            ("run_2", 3, "run_2"),
        ]
        assert reads.count_states(session, "etl_daily", "run_0") == {
            "work": {"success": 1, "failed": 1, "running": 1, None: 1}
        }
        assert sorted(reads.in_flight_by_task(session)) == [("etl_daily", "work", None, "running", 3)]
        xcoms, total = reads.page_xcoms(session, "etl_daily", "run_0", "work", limit=10, map_index=0)
        assert ([x.value for x in xcoms], total) == ([(1, "a")], 1)


def test_users_and_the_token_secret(engine: Engine) -> None:
    with session_scope(engine) as session:
        create_user(session, "ada", "long enough", "op")
        first = secret_key(session)
    with session_scope(engine) as session:
        assert secret_key(session) == first
        user = authenticate(session, "ada", "long enough")
        assert user is not None and user.role == "op"
        assert user.password_changed_at.tzinfo is not None


def test_the_api_refuses_what_the_database_cannot_store(engine: Engine, tmp_path: object) -> None:
    from fastapi.testclient import TestClient

    from tradewind.api.app import create_app
    from tradewind.auth import issue_token

    with session_scope(engine) as session:
        token = issue_token(create_user(session, "ada", "long enough", "op"), secret_key(session))
    client = TestClient(create_app(engine, logs_folder=str(tmp_path), with_ui=False))
    headers = {"Authorization": f"Bearer {token}"}
    login = client.post("/auth/token", json={"username": "a\x00", "password": "long enough"})
    assert login.status_code == 401
    pool = client.post("/api/v2/pools", json={"name": "gpu", "slots": 1, "description": "a\x00b"}, headers=headers)
    assert pool.status_code == (400 if engine.dialect.name == "postgresql" else 201), pool.text  # SQLite stores it
    if pool.status_code == 400:
        assert pool.json()["detail"].startswith("the database refused a value of the request")
