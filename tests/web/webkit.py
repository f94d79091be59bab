"""Helpers for the UI tests: a real SQLite store in a temp folder, DAG versions stored as the DAG
processor stores them, runs and instances written as the scheduler writes them, real log files,
and a FastAPI app with the UI installed, driven in process by Starlette's TestClient."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tradewind.auth import create_user
from tradewind.definitions.dag import DAG
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.serialized import serialize_with_hash
from tradewind.runtime.logs import log_relative_path
from tradewind.store import dag_versions as dv
from tradewind.store import queries as q
from tradewind.store.engine import make_engine, migrate, session_scope
from tradewind.web import install

PASSWORD = "correct horse battery"
T0 = datetime(2025, 7, 1, tzinfo=UTC)


class Site:
    """A store, a logs folder and the UI app over them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.engine: Engine = make_engine(f"sqlite:///{root / 'tradewind.db'}")
        migrate(self.engine)
        self.logs = root / "logs"
        self.logs.mkdir()
        self.app = FastAPI()
        install(self.app, self.engine, self.logs)

    def add_dag(self, dag: DAG, *, paused: bool = False, fileloc: str = "/dags/example.py") -> str:
        data, digest = serialize_with_hash(dag)
        version = dv.DagVersionInput(
            dag_id=dag.dag_id,
            dag_hash=digest,
            data=data,
            schedule=data["schedule"],
            tags=list(data["tags"]),
            max_active_runs=data["max_active_runs"],
            paused_at_creation=paused,
        )
        with session_scope(self.engine) as session:
            dv.store_versions(session, fileloc, [version])
        return digest

    def add_run(
        self,
        dag_id: str,
        run_id: str,
        state: str,
        instances: Sequence[dict[str, Any]],
        *,
        dag_hash: str | None = None,
        conf: dict[str, Any] | None = None,
        offset_days: int = 0,
    ) -> None:
        """A run and its instances (dicts of task_id, map_index, state, ... as the scheduler writes them)."""
        when = T0 + timedelta(days=offset_days)
        with session_scope(self.engine) as session:
            if dag_hash is None:
                found = q.get_dag(session, dag_id)
                dag_hash = found.dag_hash if found is not None else None
            q.create_dag_run(
                session,
                dag_id=dag_id,
                run_id=run_id,
                logical_date=when,
                data_interval_start=when,
                data_interval_end=when,
                run_type="manual",
                conf=conf,
                state=state,
                dag_hash=dag_hash,
            )
            rows = []
            for ti in instances:
                row = {"dag_id": dag_id, "run_id": run_id, "map_index": -1, "try_number": 1, **ti}
                if row.get("state") in ("success", "failed") and "duration" not in row:
                    row.update(start_date=when, end_date=when + timedelta(seconds=1.5), duration=1.5)
                rows.append(row)
            q.upsert_task_instances(session, rows)

    def add_xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int, value: Any) -> None:
        with session_scope(self.engine) as session:
            q.set_xcoms(
                session,
                [{"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": map_index, "value": value}],
            )

    def write_log(self, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int, text: str) -> Path:
        path = self.logs / log_relative_path(TaskInstanceKey(dag_id, run_id, task_id, map_index, try_number))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def add_user(self, username: str, role: str) -> None:
        with session_scope(self.engine) as session:
            create_user(session, username, PASSWORD, role)

    def client(self, username: str | None = None) -> TestClient:
        """A browser: anonymous, or logged in as ``username`` through the login form."""
        client = TestClient(self.app, follow_redirects=False)
        if username is not None:
            login(client, username)
        return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text), "next": "/dags"},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/dags"


def mapped_dag(dag_id: str = "mapped_example_dag") -> DAG:
    """generate -> process.expand(item=generate()) -> summary, plus a task group."""
    from tradewind.definitions.taskflow import task
    from tradewind.definitions.taskgroup import TaskGroup

    with DAG(dag_id, start_date=T0, schedule="@daily", tags=["demo"]) as dag:

        @task
        def generate() -> list[str]:
            return ["foo", "bar", "baz"]

        @task
        def process(item: str) -> str:
            return item.upper()

        @task
        def summary(values: Any) -> int:
            return len(list(values))

        with TaskGroup("checks"):

            @task
            def check() -> None:
                return None

            checked = check()
        summary(process.expand(item=generate())) >> checked
    return dag
