"""The REST API's trigger with ``logical_date: null``, as Airflow 3's: a DAG of an Airflow 3 file
gets a run without a logical date or data interval, whose ``run_after`` is the trigger time; an
Airflow 2 DAG gets the trigger time as its logical date. The DAG files are read in this process
and stored as the DAG processor stores them."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tradewind.api.app import create_app
from tradewind.auth import create_user, issue_token, secret_key
from tradewind.definitions.serialized import serialize_with_hash
from tradewind.loader.dagbag import import_dag_file
from tradewind.store import dag_versions as dv
from tradewind.store import make_engine, migrate
from tradewind.store.engine import session_scope

FILES = {
    "af3.py": """
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.empty import EmptyOperator

        with DAG("af3", schedule=None):
            EmptyOperator(task_id="t")
    """,
    "af2.py": """
        import pendulum
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator

        with DAG("af2", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
            EmptyOperator(task_id="t")
    """,
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    base = tmp_path_factory.mktemp("api_trigger")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRADEWIND_HOME", str(base / "home"))
        for key in ("CREATE_CRON_DATA_INTERVALS", "CREATE_DELTA_DATA_INTERVALS"):
            patch.delenv(f"TRADEWIND__SCHEDULER__{key}", raising=False)
        engine = make_engine(f"sqlite:///{base / 'tw.db'}")
        migrate(engine)
        for name, source in FILES.items():
            path = base / name
            path.write_text(textwrap.dedent(source))
            dags, error, _ = import_dag_file(path)
            assert error is None, error
            versions = []
            for dag in dags:
                data, digest = serialize_with_hash(dag)
                versions.append(dv.DagVersionInput(dag.dag_id, digest, data, data["schedule"], [], 16, False))
            with session_scope(engine) as session:
                dv.store_versions(session, str(path), versions)
        with session_scope(engine) as session:
            token = issue_token(create_user(session, "op_user", "op-password", "op"), secret_key(session))
        app = TestClient(create_app(engine, logs_folder=base / "logs", with_ui=False))
        app.headers["Authorization"] = f"Bearer {token}"
        yield app
        engine.dispose()


def test_an_airflow_3_dag_triggered_with_a_null_logical_date(client: TestClient) -> None:
    before = datetime.now(UTC)
    response = client.post("/api/v2/dags/af3/dagRuns", json={"logical_date": None})
    assert response.status_code == 200, response.text
    run = response.json()
    run_after = datetime.fromisoformat(run["run_after"])
    assert before <= run_after <= datetime.now(UTC)
    assert (run["logical_date"], run["data_interval_start"], run["data_interval_end"]) == (None, None, None)
    assert run["dag_run_id"] == f"manual__{run_after.isoformat()}"

    dated = client.post("/api/v2/dags/af3/dagRuns", json={"logical_date": "2025-03-01T00:00:00Z"}).json()
    listed = client.get("/api/v2/dags/af3/dagRuns", params={"order_by": "-run_after"}).json()
    assert [(r["dag_run_id"], r["logical_date"]) for r in listed["dag_runs"]] == [
        (dated["dag_run_id"], "2025-03-01T00:00:00+00:00"),  # triggered last
        (run["dag_run_id"], None),
    ]


def test_an_airflow_2_dag_gets_the_trigger_time(client: TestClient) -> None:
    before = datetime.now(UTC)
    run = client.post("/api/v2/dags/af2/dagRuns", json={"logical_date": None}).json()
    assert run["logical_date"] is not None
    assert before <= datetime.fromisoformat(run["logical_date"]) <= datetime.now(UTC)
