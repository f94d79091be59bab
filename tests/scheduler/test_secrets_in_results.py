"""A secret a task returns (or puts in its error) never reaches its log file: the outcome line
the worker writes for a restarted scheduler is masked like every other line; the scheduler still
records the real value, and a masked outcome read back after a crash counts as a failed try."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from test_scenarios_both_drivers import Scenario, run_scheduler, write_scenario

from tradewind.api.app import create_app
from tradewind.auth import create_user, issue_token, secret_key
from tradewind.cli.main import main
from tradewind.definitions import secrets
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.runtime.durable import MARKER, result_from_log, result_line
from tradewind.runtime.work import ErrorInfo, TaskResult
from tradewind.store import make_engine, migrate, session_scope
from tradewind.store import queries as q
from tradewind.store import secrets as stored

PASSWORD = "hunter22-very-secret"
TOKEN = "tok-5f1e9a7c"

SCENARIO = Scenario(
    "returns_a_secret",
    """
    from airflow.models import Variable
    from airflow.hooks.base import BaseHook

    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def returns_a_secret():
        @task
        def leak():
            return {"password": BaseHook.get_connection("db").password, "token": Variable.get("api_token")}

        @task(retries=0)
        def fail():
            raise ValueError("cannot log in with " + BaseHook.get_connection("db").password)

        leak()
        fail()

    returns_a_secret()
    """,
    states={("leak", -1): "success", ("fail", -1): "failed"},
    run_state="failed",
)


@pytest.mark.slow
def test_a_returned_secret_is_recorded_but_never_in_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dags = write_scenario(tmp_path, SCENARIO, monkeypatch)
    engine = make_engine()
    migrate(engine)
    with session_scope(engine) as session:
        stored.set_variable(session, "api_token", TOKEN)
        stored.add_connection(session, "db", {"conn_type": "postgres", "host": "dbhost", "password": PASSWORD})
    engine.dispose()

    outcome = run_scheduler(dags, SCENARIO, monkeypatch)

    run_id = the_run_id()
    engine = make_engine()
    with session_scope(engine) as session:
        token = issue_token(create_user(session, "viewer_user", "viewer-password", "viewer"), secret_key(session))
    client = TestClient(create_app(engine, logs_folder=tmp_path / "home" / "logs", with_ui=False))
    leak, fail = outcome.records[("leak", -1)], outcome.records[("fail", -1)]
    assert (str(leak.state), leak.return_value) == ("success", {"password": PASSWORD, "token": TOKEN})
    assert str(fail.state) == "failed" and fail.error is not None
    assert PASSWORD not in fail.error.message and "cannot log in with ***" in fail.error.message
    logs = {p.parent.parent.name: p for p in (tmp_path / "home" / "logs").rglob("attempt=1.log")}
    for task_id in ("leak", "fail"):
        raw = logs[f"task_id={task_id}"].read_bytes()
        assert MARKER.encode() in raw  # the outcome line is there, masked
        assert PASSWORD.encode() not in raw and TOKEN.encode() not in raw
        shown = CliRunner().invoke(main, ["tasks", "logs", "returns_a_secret", run_id, task_id])
        assert shown.exit_code == 0, shown.output
        assert PASSWORD not in shown.output and TOKEN not in shown.output
        served = client.get(
            f"/api/v2/dags/returns_a_secret/dagRuns/{run_id}/taskInstances/{task_id}/logs/1?full_content=true",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert served.status_code == 200, served.text
        assert [e["logger"] for e in served.json()["content"]][:1] == [task_id]
        assert PASSWORD not in served.text and TOKEN not in served.text
    assert "cannot log in with ***" in logs["task_id=fail"].read_text()
    # read back after a crash, the masked success of `leak` is a failed try to retry, not '***'
    key = TaskInstanceKey("returns_a_secret", run_id, "leak", -1, 1)
    engine.dispose()
    recovered = result_from_log(logs["task_id=leak"], key)
    assert recovered is not None and recovered.state is S.FAILED and recovered.retryable
    assert recovered.error is not None and recovered.error.type == "OutcomeMasked"


def the_run_id() -> str:
    engine = make_engine()
    try:
        with session_scope(engine) as session:
            [run] = q.list_dag_runs(session, "returns_a_secret")
            return run.run_id
    finally:
        engine.dispose()


def test_the_outcome_line_is_masked_and_an_unmasked_one_reads_back_whole(tmp_path: Path) -> None:
    key = TaskInstanceKey("d", "r", "t", -1, 1)
    secrets.clear_masks()
    try:
        secrets.mask_secret(PASSWORD)
        error = ErrorInfo("ValueError", "no", "")
        masked = TaskResult(key, S.SUCCESS, _at(), _at(), return_value=[PASSWORD], xcoms={"return_value": PASSWORD})
        plain = TaskResult(key, S.FAILED, _at(), _at(), return_value=None, error=error, retryable=False)
        masked_line, plain_line = result_line(masked), result_line(plain)
    finally:
        secrets.clear_masks()
    assert PASSWORD not in masked_line and "***" in masked_line
    log = tmp_path / "attempt=1.log"
    log.write_text("output\n" + masked_line)
    recovered = result_from_log(log, key)
    assert recovered is not None and (recovered.state, recovered.retryable) == (S.FAILED, True)
    assert recovered.error is not None and "held a secret" in recovered.error.message
    log.write_text("output\n" + plain_line)
    assert result_from_log(log, key) == plain  # nothing masked: the outcome comes back as it was


def _at() -> datetime:
    return datetime(2025, 1, 1, tzinfo=UTC)
