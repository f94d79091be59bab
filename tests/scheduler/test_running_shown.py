"""A task that runs shows ``running`` while it runs: the real scheduler (a process, its local
workers) records the worker's start, and both ``tasks states-for-dag-run`` and the REST API
(the app on FastAPI's test client, over the same SQLite file) say so, with a start date, the
host and the worker's pid; once the task ends, it is a success with its own start and end."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tradewind.api.app import create_app
from tradewind.auth import create_user, issue_token, secret_key
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.executors.local import LocalExecutor, task_log_path
from tradewind.processor import DagProcessor
from tradewind.runtime.work import WorkItem
from tradewind.scheduler.loop import Scheduler
from tradewind.scheduler.persistence import StoreGateway
from tradewind.store import make_engine
from tradewind.store.engine import migrate, session_scope

pytestmark = pytest.mark.slow

TRADEWIND = str(Path(sys.executable).with_name("tradewind"))

GATED_DAG = """
    import os
    import time
    from datetime import datetime
    from pathlib import Path
    from tradewind import dag, task

    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def gated():
        @task
        def wait_for_gate():
            gate = Path(os.environ["RUNNING_GATE"])
            deadline = time.monotonic() + 120
            while not gate.exists():
                if time.monotonic() > deadline:
                    raise TimeoutError("the gate never opened")
                time.sleep(0.05)
            return gate.read_text()

        @task
        def after(text):
            return text.upper()

        after(wait_for_gate())

    gated()
"""


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([TRADEWIND, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"tradewind {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def cli_states(env: dict[str, str], run_id: str) -> dict[str, dict[str, Any]]:
    rows = json.loads(cli(env, "tasks", "states-for-dag-run", "gated", run_id, "-o", "json"))
    return {row["task_id"]: row for row in rows}


def test_a_waiting_task_shows_running_in_the_cli_and_the_api_then_succeeds(tmp_path: Path, monkeypatch) -> None:
    home, dags, gate = tmp_path / "home", tmp_path / "dags", tmp_path / "gate"
    dags.mkdir()
    (dags / "gated.py").write_text(textwrap.dedent(GATED_DAG))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env.update(TRADEWIND_HOME=str(home), TRADEWIND__CORE__DAGS_FOLDER=str(dags), RUNNING_GATE=str(gate))
    for name in [n for n in os.environ if n.startswith("TRADEWIND")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TRADEWIND_HOME", str(home))

    run_id = json.loads(cli(env, "dags", "trigger", "gated", "-o", "json"))["run_id"]
    engine = make_engine()  # the store the CLI made: TRADEWIND_HOME's SQLite file
    with session_scope(engine) as session:
        user = create_user(session, "watcher", "watcher-password", "viewer")
        token = issue_token(user, secret_key(session))
    client = TestClient(create_app(engine, logs_folder=home / "logs", with_ui=False))
    path = f"/api/v2/dags/gated/dagRuns/{run_id}/taskInstances"

    def api_states() -> dict[str, dict[str, Any]]:
        answer = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        return {ti["task_id"]: ti for ti in answer.json()["task_instances"]}

    scheduler = subprocess.Popen(
        [TRADEWIND, "scheduler", "--exit-when-idle", "--parallelism", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        rows = cli_states(env, run_id)
        while rows.get("wait_for_gate", {}).get("state") != "running":
            assert scheduler.poll() is None and time.monotonic() < deadline, f"never shown running: {rows}"
            time.sleep(0.2)
            rows = cli_states(env, run_id)

        # while it waits: running with a start date, in the CLI and the API alike
        waiting = rows["wait_for_gate"]
        assert (waiting["state"], waiting["try_number"], waiting["end_date"]) == ("running", 1, None)
        assert waiting["start_date"] is not None
        assert rows.get("after", {}).get("state") is None  # its upstream has not ended
        instances = api_states()
        shown = instances["wait_for_gate"]
        assert (shown["state"], shown["try_number"], shown["end_date"]) == ("running", 1, None)
        assert shown["start_date"] is not None and shown["start_date"][:19] == waiting["start_date"][:19]
        assert shown["hostname"] == socket.gethostname()
        assert isinstance(shown["pid"], int) and shown["pid"] not in (os.getpid(), scheduler.pid)
        assert instances.get("after", {}).get("state") is None
        time.sleep(1.0)  # several scheduler turns later it is still running, not back to queued
        assert api_states()["wait_for_gate"]["state"] == "running"

        gate.write_text("open")
        output, _ = scheduler.communicate(timeout=120)
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
            scheduler.communicate()
    assert scheduler.returncode == 0, output

    rows = cli_states(env, run_id)
    assert [(t, rows[t]["state"]) for t in ("wait_for_gate", "after")] == [
        ("wait_for_gate", "success"),
        ("after", "success"),
    ]
    done = api_states()["wait_for_gate"]
    assert done["state"] == "success" and done["end_date"] is not None
    assert done["start_date"] <= done["end_date"]
    assert done["hostname"] == socket.gethostname() and done["pid"] == shown["pid"]
    tries = client.get(f"{path}/wait_for_gate/tries", headers={"Authorization": f"Bearer {token}"}).json()
    assert [(t["try_number"], t["state"], t["hostname"], t["pid"]) for t in tries["task_instances"]] == [
        (1, "success", socket.gethostname(), shown["pid"])
    ]
    engine.dispose()


KILLED_DAG = """
    import os
    import time
    from datetime import datetime
    from pathlib import Path
    from tradewind import dag, task

    PID = Path(os.environ["RUNNING_PID_FILE"])

    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def killed():
        @task(retries=1, retry_delay=0)
        def sleeper():
            if not PID.exists():
                PID.write_text(str(os.getpid()))  # this worker process, for the test to kill
                time.sleep(120)
            return "second try"

        sleeper()

    killed()
"""


def test_an_instance_shown_running_whose_worker_dies_is_retried_by_its_rules(tmp_path: Path, monkeypatch) -> None:
    for name in [n for n in os.environ if n.startswith("TRADEWIND")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    pid_file = tmp_path / "worker.pid"
    monkeypatch.setenv("RUNNING_PID_FILE", str(pid_file))
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "killed.py").write_text(textwrap.dedent(KILLED_DAG))
    engine = make_engine()
    migrate(engine)
    gateway = StoreGateway(engine)
    processor = DagProcessor(dags, engine)
    processor.run_once()
    context = gateway.create_manual_run(gateway.get_dag("killed"), None, {})
    scheduler = Scheduler(
        gateway, LocalExecutor(parallelism=1), processor=processor, log=io.StringIO(), log_path=task_log_path
    )
    thread = threading.Thread(target=scheduler.run, kwargs={"until_idle": True}, daemon=True)
    thread.start()

    deadline = time.monotonic() + 60
    record = None
    while record is None or record.state != "running" or not pid_file.exists():
        assert thread.is_alive() and time.monotonic() < deadline, f"never shown running: {record}"
        time.sleep(0.1)
        record = next(iter(gateway.load_records("killed", context.run_id)), None)
    worker_pid = int(pid_file.read_text())
    assert (record.try_number, record.hostname, record.pid) == (1, socket.gethostname(), worker_pid)

    os.kill(worker_pid, signal.SIGKILL)
    thread.join(120)
    assert not thread.is_alive()

    (record,) = gateway.load_records("killed", context.run_id)
    assert (record.state, record.try_number, record.return_value) == ("success", 2, "second try")
    assert record.pid != worker_pid  # the retry ran in the worker that replaced it (or told no pid)
    first = WorkItem(key=TaskInstanceKey("killed", context.run_id, "sleeper", -1, 1), context=context)
    assert f"worker process {worker_pid} died (exit code -9, SIGKILL) while running task" in (
        task_log_path(first).read_text()
    )
    engine.dispose()
