"""A 100,000-way map runs through the real scheduler (no cap at Airflow's 1,024) with the
scheduler's memory bounded."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tradewind.scheduler.persistence import StoreGateway
from tradewind.store.engine import make_engine

pytestmark = pytest.mark.slow

TRADEWIND = Path(sys.executable).with_name("tradewind")
N = 100_000

WIDE = f"""
from datetime import datetime

from airflow.decorators import dag, task


@dag(start_date=datetime(2025, 1, 1), schedule=None, max_active_tasks=64)
def wide():
    @task
    def numbers():
        return list(range({N}))

    @task
    def double(x):
        return x * 2

    @task
    def total(values):
        return sum(values), len(values)

    total(double.expand(x=numbers()))


wide()
"""


def test_a_100000_way_map_succeeds_with_bounded_scheduler_memory(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "wide.py").write_text(textwrap.dedent(WIDE))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env["TRADEWIND_HOME"] = str(tmp_path / "home")

    def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(TRADEWIND), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}"
        return done

    run_id = json.loads(cli("dags", "trigger", "wide", "--dags-folder", str(dags), "-o", "json").stdout)["run_id"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    cli("scheduler", "--dags-folder", str(dags), "--exit-when-idle", "--parallelism", "2", timeout=600)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest process that ended

    [run] = json.loads(cli("dags", "list-runs", "wide", "-o", "json").stdout)
    assert (run["run_id"], run["state"]) == (run_id, "success")
    failed = cli("tasks", "states-for-dag-run", "wide", run_id, "--state", "failed", "--state", "upstream_failed")
    assert "No task instances" in failed.stdout
    page = cli(
        "tasks", "states-for-dag-run", "wide", run_id, "--task-id", "double", "--offset", str(N - 2), "-o", "json"
    )
    assert [(r["map_index"], r["state"]) for r in json.loads(page.stdout)] == [(N - 2, "success"), (N - 1, "success")]
    store = StoreGateway(make_engine(f"sqlite:///{tmp_path / 'home' / 'tradewind.db'}"))
    [total] = [r for r in store.load_records("wide", run_id) if r.task_id == "total"]
    assert total.return_value == (N * (N - 1), N)  # every instance's value reached the reduce
    assert max(peak_kb, before) < 1024 * 1024, f"peak RSS {peak_kb / 1024:.0f} MB"
