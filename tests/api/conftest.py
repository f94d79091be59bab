"""A real store for the API tests: a DAG folder parsed by the real DAG processor, runs finished
by the real scheduler (worker processes) in this process, users in the store, and the app on
FastAPI's test client. Built once per module (a scheduler pass costs seconds)."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Iterator

import pytest
from apikit import API_DAG, BROKEN, REPO, Api
from fastapi.testclient import TestClient

from tradewind.api.app import create_app
from tradewind.auth import create_user, issue_token, secret_key
from tradewind.processor import DagProcessor
from tradewind.scheduler.persistence import StoreGateway
from tradewind.store import make_engine, migrate
from tradewind.store.engine import session_scope


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
        for name in list(os.environ):
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
