"""The scheduler as a newcomer starts it: real processes, a real SQLite file, real workers.

The kill -9 test stops the scheduler (and its workers) in the middle of a run, starts it again,
and checks that the run completes, every instance ends final, and no instance that had
succeeded ran a second time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tradewind.runtime.logs import path_component

TRADEWIND = str(Path(sys.executable).with_name("tradewind"))
EXAMPLES = Path(__file__).parents[2] / "examples" / "dags"
FINAL = {"success", "failed", "skipped", "upstream_failed", "removed"}

pytestmark = pytest.mark.slow


def env_for(home: Path, dags: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env.update(TRADEWIND_HOME=str(home), TRADEWIND__CORE__DAGS_FOLDER=str(dags), COLUMNS="200")
    return env


def cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([TRADEWIND, *args], env=env, capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError(f"tradewind {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def states(env: dict[str, str], dag_id: str, run_id: str) -> list[dict]:
    return json.loads(cli(env, "tasks", "states-for-dag-run", dag_id, run_id, "-o", "json").stdout)


def test_triggered_seed_example_succeeds_with_logs_for_each_try(tmp_path: Path) -> None:
    env = env_for(tmp_path / "home", EXAMPLES)
    run_id = json.loads(cli(env, "dags", "trigger", "mapped_example_dag", "-o", "json").stdout)["run_id"]
    cli(env, "scheduler", "--exit-when-idle", "--parallelism", "2")
    rows = states(env, "mapped_example_dag", run_id)
    assert sorted((r["task_id"], r["map_index"], r["state"]) for r in rows) == [
        ("generate_inputs", -1, "success"),
        ("process", 0, "success"),
        ("process", 1, "success"),
        ("process", 2, "success"),
    ]
    runs = json.loads(cli(env, "dags", "list-runs", "mapped_example_dag", "-o", "json").stdout)
    assert [(r["run_id"], r["state"]) for r in runs if r["run_id"] == run_id] == [(run_id, "success")]
    logs = tmp_path / "home" / "logs" / "dag_id=mapped_example_dag" / path_component("run_id", run_id)
    for index, word in enumerate(["foo", "bar", "baz"]):
        log = logs / "task_id=process" / f"map_index={index}" / "attempt=1.log"
        assert f"Processing: {word}" in log.read_text()
    assert (logs / "task_id=generate_inputs" / "map_index=-1" / "attempt=1.log").exists()


CRASH_DAG = """
    from datetime import datetime
    from pathlib import Path
    import os, time
    from tradewind import dag, task

    JOURNAL = Path(os.environ["CRASH_JOURNAL"])

    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def crash_test():
        @task
        def items():
            return list(range(12))

        @task(retries=2, retry_delay=0)
        def slow(i, ti=None):
            with JOURNAL.open("a") as journal:
                journal.write(f"start {i} {ti.try_number}\\n")
            time.sleep(0.4)
            with JOURNAL.open("a") as journal:
                journal.write(f"end {i} {ti.try_number}\\n")
            return i * 2

        @task
        def total(values):
            return sum(values)

        total(slow.expand(i=items()))

    crash_test()
"""


def test_kill_9_of_the_scheduler_mid_run_loses_nothing(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "crash_test.py").write_text(textwrap.dedent(CRASH_DAG))
    journal = tmp_path / "journal.txt"
    env = env_for(tmp_path / "home", dags)
    env["CRASH_JOURNAL"] = str(journal)
    run_id = json.loads(cli(env, "dags", "trigger", "crash_test", "-o", "json").stdout)["run_id"]

    scheduler = subprocess.Popen(
        [TRADEWIND, "scheduler", "--parallelism", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: kill -9 takes the workers too
    )
    try:
        deadline = time.monotonic() + 60
        done_before: set[int] = set()
        while time.monotonic() < deadline:
            rows = states(env, "crash_test", run_id)
            done_before = {r["map_index"] for r in rows if r["task_id"] == "slow" and r["state"] == "success"}
            if len(done_before) >= 3:
                break
            time.sleep(0.1)
        assert len(done_before) >= 3, "the run did not get going"
        os.killpg(scheduler.pid, signal.SIGKILL)
        scheduler.wait(timeout=10)
    finally:
        if scheduler.poll() is None:
            os.killpg(scheduler.pid, signal.SIGKILL)
    assert len(done_before) < 12, "the run finished before the kill: nothing was tested"

    cli(env, "scheduler", "--exit-when-idle", "--parallelism", "2")
    rows = states(env, "crash_test", run_id)
    assert all(r["state"] in FINAL for r in rows), rows
    by_key = {(r["task_id"], r["map_index"]): r for r in rows}
    assert all(by_key[("slow", i)]["state"] == "success" for i in range(12))
    assert by_key[("total", -1)]["state"] == "success"
    runs = json.loads(cli(env, "dags", "list-runs", "crash_test", "-o", "json").stdout)
    assert [r["state"] for r in runs if r["run_id"] == run_id] == ["success"]
    starts = [line.split() for line in journal.read_text().splitlines() if line.startswith("start")]
    for index in done_before:
        assert sum(1 for _, i, _ in starts if int(i) == index) == 1, f"slow[{index}] ran again after succeeding"


SLOW_DAG = """
    from datetime import datetime
    import time
    from tradewind import dag, task

    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def slow_one():
        @task
        def wait_a_bit():
            time.sleep(1.5)
            return "done"

        wait_a_bit()

    slow_one()
"""


def test_ctrl_c_lets_the_running_task_finish_and_records_it(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "slow_one.py").write_text(textwrap.dedent(SLOW_DAG))
    env = env_for(tmp_path / "home", dags)
    run_id = json.loads(cli(env, "dags", "trigger", "slow_one", "-o", "json").stdout)["run_id"]
    scheduler = subprocess.Popen(
        [TRADEWIND, "scheduler", "--parallelism", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(r["state"] == "queued" for r in states(env, "slow_one", run_id)):
                break
            time.sleep(0.05)
        scheduler.send_signal(signal.SIGINT)
        _, err = scheduler.communicate(timeout=30)
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
    assert scheduler.returncode == 0, err
    assert "waiting for running tasks to finish" in err
    rows = states(env, "slow_one", run_id)
    assert [(r["task_id"], r["state"], r["try_number"]) for r in rows] == [("wait_a_bit", "success", 1)]


def test_a_second_scheduler_on_the_same_home_refuses_to_start(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    env = env_for(tmp_path / "home", dags)
    first = subprocess.Popen(
        [TRADEWIND, "scheduler"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        lock = tmp_path / "home" / "scheduler.pid"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip()):
            time.sleep(0.05)
        second = cli(env, "scheduler", check=False)
        assert second.returncode == 1
        assert f"another scheduler is running (pid {first.pid}" in second.stderr
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=30)


POOL_DAG = """
    import os, time
    from datetime import datetime
    from pathlib import Path
    from tradewind import dag, task

    JOURNAL = Path(os.environ["POOL_JOURNAL"])

    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def pooled():
        @task(pool="api")
        def call(i):
            with JOURNAL.open("a") as journal:
                journal.write(f"start {i}\\n")
            time.sleep(0.05)
            with JOURNAL.open("a") as journal:
                journal.write(f"end {i}\\n")

        @task(pool="nope")
        def lost():
            return 1

        call.expand(i=[0, 1, 2, 3])
        lost()

    pooled()
"""


def test_a_pool_with_one_slot_runs_its_tasks_one_at_a_time(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "pooled.py").write_text(textwrap.dedent(POOL_DAG))
    env = env_for(tmp_path / "home", dags)
    env["POOL_JOURNAL"] = str(tmp_path / "journal.txt")
    cli(env, "pools", "set", "api", "1")
    run_id = json.loads(cli(env, "dags", "trigger", "pooled", "-o", "json").stdout)["run_id"]
    cli(env, "scheduler", "--exit-when-idle", "--parallelism", "2")
    events = (tmp_path / "journal.txt").read_text().split("\n")[:-1]
    # never two starts in a row: each call ends before the next one starts
    assert [e.split()[0] for e in events] == ["start", "end"] * 4
    rows = {(r["task_id"], r["map_index"]): r for r in states(env, "pooled", run_id)}
    assert all(rows[("call", i)]["state"] == "success" for i in range(4))
    assert rows[("lost", -1)]["state"] == "failed"
    assert rows[("lost", -1)]["error"] == "pool 'nope' does not exist: create it with `tradewind pools set nope SLOTS`"


def test_dags_can_start_paused_as_in_airflow(tmp_path: Path) -> None:
    env = env_for(tmp_path / "home", EXAMPLES)
    env["TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = "true"
    run_id = json.loads(cli(env, "dags", "trigger", "mapped_example_dag", "-o", "json").stdout)["run_id"]
    cli(env, "scheduler", "--exit-when-idle", "--parallelism", "1")
    runs = json.loads(cli(env, "dags", "list-runs", "mapped_example_dag", "-o", "json").stdout)
    assert [(r["run_id"], r["state"]) for r in runs] == [(run_id, "queued")]  # no scheduled run either
