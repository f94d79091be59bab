"""A run keeps the DAG version it was created with: when the DAG file changes mid-run, the run
already queued goes on with its own structure and a run created afterwards gets the new one."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tradewind.cli.orchestrator import list_runs
from tradewind.executors.local import LocalExecutor, task_log_path
from tradewind.processor import DagProcessor
from tradewind.scheduler.loop import Scheduler
from tradewind.scheduler.persistence import StoreGateway
from tradewind.store.engine import make_engine, migrate

pytestmark = pytest.mark.slow


def chain_dag(task_ids: list[str]) -> str:
    return "\n".join(
        [
            "from datetime import datetime",
            "from tradewind import chain, dag, task",
            "",
            "@task",
            "def step(name):",
            "    return name",
            "",
            "@dag(start_date=datetime(2025, 1, 1), schedule=None)",
            "def versioned():",
            f"    chain(*[step.override(task_id=t)(t) for t in {task_ids!r}])",
            "",
            "versioned()",
            "",
        ]
    )


def test_a_run_keeps_its_version_when_the_file_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    dags = tmp_path / "dags"
    dags.mkdir()
    path = dags / "versioned.py"
    path.write_text(chain_dag(["a", "b"]))
    engine = make_engine()
    migrate(engine)
    gateway = StoreGateway(engine)
    processor = DagProcessor(dags, engine)
    processor.run_once()
    first = gateway.create_manual_run(gateway.get_dag("versioned"), None, {}, run_id="before_the_change")

    path.write_text(chain_dag(["a", "b", "c"]))
    assert processor.run_once().new_versions == 1
    second = gateway.create_manual_run(gateway.get_dag("versioned"), None, {}, run_id="after_the_change")

    scheduler = Scheduler(
        gateway, LocalExecutor(parallelism=2), processor=processor, log=io.StringIO(), log_path=task_log_path
    )
    scheduler.run(until_idle=True)

    states = {
        run_id: {(r["task_id"], r["map_index"]): r["state"] for r in gateway.task_states("versioned", run_id)}
        for run_id in (first.run_id, second.run_id)
    }
    assert states == {
        "before_the_change": {("a", -1): "success", ("b", -1): "success"},
        "after_the_change": {("a", -1): "success", ("b", -1): "success", ("c", -1): "success"},
    }
    numbers = gateway.version_numbers("versioned")
    runs = {r.run_id: (r.state, numbers.get(r.dag_hash)) for r in gateway.list_runs("versioned")}
    assert runs == {"before_the_change": ("success", 1), "after_the_change": ("success", 2)}
    listed = CliRunner().invoke(list_runs, ["versioned", "-o", "json"])
    assert listed.exit_code == 0, listed.output
    assert {r["run_id"]: r["dag_version"] for r in json.loads(listed.output)} == {
        "before_the_change": 1,
        "after_the_change": 2,
    }
    records = {r.task_id: r for r in gateway.load_records("versioned", second.run_id)}
    assert records["c"].return_value == "c"
    assert processor.imports == 2  # the scheduler's own look at the folder found nothing new
    engine.dispose()


CONFIG_FACTORY = """
import json, os
from datetime import datetime
from pathlib import Path
from tradewind import DAG, task

for name, value in json.loads((Path(__file__).parent / "pipelines.json").read_text()).items():
    with DAG(name, start_date=datetime(2025, 1, 1), schedule=None) as built:
        task(lambda value=value: [value, os.getpid()], task_id="which")()
    globals()[name] = built
"""


def test_a_worker_builds_its_dags_again_when_a_config_they_read_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker that ran the first run is the one that runs the second: it notices that the
    JSON the factory reads changed (the DAG processor's record of the file's inputs), not only
    the factory's own bytes, and builds the DAGs again."""
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TRADEWIND__DAG_PROCESSOR__REFRESH_INTERVAL", "0.05")
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "factory.py").write_text(CONFIG_FACTORY)
    config = dags / "pipelines.json"
    config.write_text(json.dumps({"orders": "first config"}))
    engine = make_engine()
    migrate(engine)
    gateway = StoreGateway(engine)
    processor = DagProcessor(dags, engine)
    processor.run_once()
    scheduler = Scheduler(
        gateway, LocalExecutor(parallelism=1), processor=processor, log=io.StringIO(), log_path=task_log_path
    )
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, kwargs={"should_stop": stop.is_set})
    thread.start()
    try:
        first = gateway.create_manual_run(gateway.get_dag("orders"), None, {}, run_id="first")
        before = wait_for_return_value(gateway, first.run_id)
        inputs = gateway.file_input_hashes([str(dags / "factory.py")])
        config.write_text(json.dumps({"orders": "second config"}))
        deadline = time.monotonic() + 30
        while gateway.file_input_hashes([str(dags / "factory.py")]) == inputs:  # the processor's next look
            assert time.monotonic() < deadline, "the DAG processor never noticed the changed config"
            time.sleep(0.05)
        second = gateway.create_manual_run(gateway.get_dag("orders"), None, {}, run_id="second")
        after = wait_for_return_value(gateway, second.run_id)
    finally:
        stop.set()
        thread.join(timeout=60)
        engine.dispose()
    assert before[0] == "first config" and after[0] == "second config"
    assert before[1] == after[1]  # the same worker process, which imported the factory again


def wait_for_return_value(gateway: StoreGateway, run_id: str) -> list[Any]:
    deadline = time.monotonic() + 60
    while True:
        records = gateway.load_records("orders", run_id)
        if records and records[0].state == "success":
            return list(records[0].return_value)
        assert time.monotonic() < deadline, f"run {run_id} did not succeed: {records}"
        time.sleep(0.05)
