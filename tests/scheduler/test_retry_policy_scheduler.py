"""retry_policy= under the scheduler (real store, tasks run inline): the decision made in the
worker reaches the scheduler's retry rule through the task's result, as under ``dags test``
(tests/examples/test_retry_policy.py compares that with Airflow 3.3.2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.scheduler.scheduler_home import SchedulerHome

from tradewind.store import queries as q
from tradewind.store.engine import session_scope

SOURCE = (Path(__file__).parents[1] / "examples" / "dags" / "retry_policies.py").read_text()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SchedulerHome:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    return SchedulerHome(tmp_path)


def test_the_scheduler_follows_the_policys_decisions(home: SchedulerHome) -> None:
    home.store("retry_policies.py", SOURCE)
    home.gateway.create_manual_run(home.gateway.get_dag("retry_policies"), None, {}, run_id="go")

    said = home.run_scheduler()  # flaky_network's retry_delay is 1h: only the rule's 0s lets it end

    with session_scope(home.engine) as session:
        tries = {ti.task_id: (ti.state, ti.try_number) for ti in q.list_task_instances(session, "retry_policies", "go")}
        (run,) = q.list_dag_runs(session, "retry_policies")
    assert tries == {
        "no_access": ("failed", 1),
        "flaky_network": ("success", 3),
        "not_matched": ("failed", 2),
        "own_policy": ("failed", 2),
        "broken_policy": ("failed", 2),
    }
    assert run.state == "failed"
    assert "Task 'flaky_network' failed on try 2 of 3; retrying in 0s" in said
