"""Under the scheduler, a task in a worker process reads Variables and Connections from the
store through the read-only handle the scheduler gives its workers (docs/adr/0011)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_scenarios_both_drivers import Scenario, run_scheduler, write_scenario

from tradewind.store import make_engine, migrate, session_scope
from tradewind.store import secrets as stored

SCENARIO = Scenario(
    "reads_the_store",
    """
    from airflow.models import Variable
    from airflow.hooks.base import BaseHook

    OWNER = Variable.get("owner")  # read while the DAG processor imports the file

    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def reads_the_store():
        @task
        def read():
            Variable.set("seen", "yes")
            print("password is", BaseHook.get_connection("db").password)
            return [Variable.get("bucket"), BaseHook.get_connection("db").host, OWNER]

        read()

    reads_the_store()
    """,
    states={("read", -1): "success"},
    run_state="success",
    returns={("read", -1): ["stored-bucket", "dbhost", "data-team"]},
)


@pytest.mark.slow
def test_a_worker_reads_and_writes_variables_in_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dags = write_scenario(tmp_path, SCENARIO, monkeypatch)
    engine = make_engine()
    migrate(engine)
    with session_scope(engine) as session:
        stored.set_variable(session, "bucket", "stored-bucket")
        stored.set_variable(session, "owner", "data-team")
        stored.add_connection(session, "db", {"conn_type": "postgres", "host": "dbhost", "password": "hunter22"})

    outcome = run_scheduler(dags, SCENARIO, monkeypatch)

    record = outcome.records[("read", -1)]
    assert (str(record.state), record.return_value) == ("success", ["stored-bucket", "dbhost", "data-team"]), (
        record.error
    )
    with session_scope(engine) as session:
        row = stored.get_variable(session, "seen")
        assert row is not None and row.val == "yes"
    engine.dispose()
    [log] = (tmp_path / "home" / "logs").rglob("*.log")
    text = log.read_text()
    assert "password is ***" in text
    assert "hunter22" not in text
