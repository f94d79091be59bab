"""A restarted scheduler applies a finished try's outcome only to that try: runs `col/1` and
`col%2F1` once shared their log folders, and one took the other's results without running."""

from __future__ import annotations

import io
import shutil
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.executors.local import LocalExecutor, task_log_path
from tradewind.processor import DagProcessor
from tradewind.runtime.durable import result_line
from tradewind.runtime.work import RunContext, TaskResult, WorkItem
from tradewind.scheduler.loop import Scheduler
from tradewind.scheduler.persistence import StoreGateway
from tradewind.scheduler.run_state import InstanceRecord
from tradewind.store.engine import make_engine, migrate

pytestmark = pytest.mark.slow

DAG_FILE = """
    import os
    from datetime import datetime
    from pathlib import Path
    from tradewind import dag, task

    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def collide():
        @task(retries=1, retry_delay=0)
        def step(i, dag_run=None):
            with Path(os.environ["RECOVERY_JOURNAL"]).open("a") as journal:
                journal.write(f"{dag_run.run_id} {i}\\n")
            return f"{dag_run.run_id} {i}"

        for i in range(4):
            step.override(task_id=f"step{i}")(i)

    collide()
"""
TASKS = [f"step{i}" for i in range(4)]


@pytest.mark.parametrize("forged", [False, True], ids=["own-paths", "outcomes-copied-to-its-paths"])
def test_a_finished_try_of_one_run_is_never_applied_to_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forged: bool
) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    journal = tmp_path / "journal.txt"
    journal.touch()
    monkeypatch.setenv("RECOVERY_JOURNAL", str(journal))
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "collide.py").write_text(textwrap.dedent(DAG_FILE))
    engine = make_engine()
    migrate(engine)
    gateway = StoreGateway(engine)
    processor = DagProcessor(dags, engine)
    processor.run_once()
    dag = gateway.get_dag("collide")
    runs: dict[str, RunContext] = {}
    for day, run_id in ((1, "col/1"), (2, "col%2F1")):
        runs[run_id] = gateway.create_manual_run(dag, datetime(2025, 1, day, tzinfo=UTC), {}, run_id=run_id)
        gateway.mark_runs_running([(run, dag.version) for run in gateway.runs_to_start() if run.run_id == run_id])
        # a scheduler killed mid-run left every instance queued on try 1
        records = [InstanceRecord(t, state=S.QUEUED, try_number=1) for t in TASKS]
        gateway.save_records(dag.dag_id, run_id, records, set())

    def log_of(run_id: str, task_id: str) -> Path:
        key = TaskInstanceKey(dag.dag_id, run_id, task_id, -1, 1)
        return task_log_path(WorkItem(key=key, context=runs[run_id]))

    # every try of `col/1` finished before the crash: its logs end with its outcomes
    for task_id in TASKS:
        key = TaskInstanceKey(dag.dag_id, "col/1", task_id, -1, 1)
        now = datetime.now(UTC)
        done = TaskResult(key=key, state=S.SUCCESS, started_at=now, ended_at=now, return_value=f"col/1 {task_id}")
        log_of("col/1", task_id).parent.mkdir(parents=True, exist_ok=True)
        log_of("col/1", task_id).write_text(result_line(done))
        if forged:  # whatever put them there, they are not `col%2F1`'s outcomes
            log_of("col%2F1", task_id).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(log_of("col/1", task_id), log_of("col%2F1", task_id))
        else:
            assert log_of("col%2F1", task_id) != log_of("col/1", task_id)

    scheduler = Scheduler(
        gateway, LocalExecutor(parallelism=2), processor=processor, log=io.StringIO(), log_path=task_log_path
    )
    scheduler.run(until_idle=True)

    ran = sorted(journal.read_text().splitlines())
    assert ran == sorted(f"col%2F1 {i}" for i in range(4))  # `col/1` did not run again; `col%2F1` did
    other = {r.task_id: r for r in gateway.load_records(dag.dag_id, "col%2F1")}
    assert {t: (r.state, r.return_value) for t, r in other.items()} == {
        f"step{i}": (S.SUCCESS, f"col%2F1 {i}") for i in range(4)
    }
    # a log holding someone else's outcome counts as a try that started and did not finish
    assert {r.try_number for r in other.values()} == ({2} if forged else {1})
    finished = {r.task_id: r for r in gateway.load_records(dag.dag_id, "col/1")}
    assert {t: (r.state, r.try_number) for t, r in finished.items()} == dict.fromkeys(TASKS, (S.SUCCESS, 1))
