"""A real store for the API tests: a DAG folder parsed by the real DAG processor, runs finished
by the real scheduler (worker processes) in this process, users in the store, and the app on
FastAPI's test client. Built once per module (a scheduler pass costs seconds)."""

from __future__ import annotations

import io
import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tradewind.api.app import create_app
from tradewind.auth import create_user, issue_token, secret_key
from tradewind.executors.local import LocalExecutor, task_log_path
from tradewind.processor import DagProcessor
from tradewind.scheduler.loop import Scheduler
from tradewind.scheduler.persistence import StoreGateway
from tradewind.store import make_engine, migrate
from tradewind.store.engine import session_scope

REPO = Path(__file__).parents[2]

API_DAG = """
    import os
    from datetime import datetime
    from tradewind import DAG, Param, task

    with open(__file__ + ".imported-by", "a") as marker:  # who imports this file
        marker.write(f"{os.getpid()}\\n")

    with DAG("api_dag", start_date=datetime(2025, 1, 1), schedule=None, tags=["api", "demo"],
             params={"n": Param(3, type="integer", description="how many")}):
        @task
        def numbers():
            return [0, 1, 2]

        @task(map_index_template="item {{ task.op_kwargs['x'] }}")
        def check(x):
            print(f"checking {x}")
            if x == 1:
                raise ValueError("one is odd")
            return x * 10

        check.expand(x=numbers())
"""

BROKEN = "from airflow import DAG\nimport nothing_here_at_all\n"  # names DAG: safe mode imports it


@dataclass
class Api:
    client: TestClient
    engine: Engine
    home: Path
    logs: Path
    dags: Path
    tokens: dict[str, str]

    def headers(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, path: str, role: str = "admin", **kwargs: object) -> object:
        return self.client.get(path, headers=self.headers(role), **kwargs)  # type: ignore[arg-type]

    def run_scheduler(self) -> None:
        gateway = StoreGateway(self.engine)
        processor = DagProcessor(self.dags, self.engine)
        scheduler = Scheduler(
            gateway, LocalExecutor(parallelism=1), processor=processor, log=io.StringIO(), log_path=task_log_path
        )
        scheduler.run(until_idle=True)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    base = tmp_path_factory.mktemp("api")
    home, dags = base / "home", base / "dags"
    dags.mkdir(parents=True)
    (dags / "api_dag.py").write_text(textwrap.dedent(API_DAG))
    shutil.copy(REPO / "examples" / "dags" / "mapped_example_dag.py", dags)
    (dags / "broken.py").write_text(BROKEN)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRADEWIND_HOME", str(home))
        for name in list(__import__("os").environ):
            if name.startswith("TRADEWIND__"):
                patch.delenv(name)
        engine = make_engine(f"sqlite:///{base / 'tw.db'}")
        migrate(engine)
        DagProcessor(dags, engine).run_once()
        gateway = StoreGateway(engine)
        for run_id in ("run_1", "run_2"):
            gateway.create_manual_run(gateway.get_dag("api_dag"), None, {}, run_id=run_id)
        with session_scope(engine) as session:
            users = {
                role: create_user(session, f"{role}_user", f"{role}-password", role)
                for role in ("viewer", "op", "admin")
            }
            secret = secret_key(session)
        built = Api(
            client=TestClient(create_app(engine, logs_folder=home / "logs", with_ui=False)),
            engine=engine,
            home=home,
            logs=home / "logs",
            dags=dags,
            tokens={role: issue_token(user, secret) for role, user in users.items()},
        )
        built.run_scheduler()
        yield built
        engine.dispose()
