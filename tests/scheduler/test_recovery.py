"""What a restarted scheduler does with instances the dead one left in flight, decided from the
store and the try's log file (the worker writes the try's outcome as its last line)."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.executors.local import LocalExecutor, task_log_path
from tradewind.loader import load_dags
from tradewind.processor import DagProcessor
from tradewind.runtime.durable import result_line
from tradewind.runtime.run_task import run_task
from tradewind.runtime.work import WorkItem
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

    JOURNAL = Path(os.environ["RECOVERY_JOURNAL"])

    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def recovery():
        @task(retries=1, retry_delay=0)
        def step(name):
            with JOURNAL.open("a") as journal:
                journal.write(name + "\\n")
            return name.upper()

        @task
        def collect(a, b, c):
            return [a, b, c]

        done = step.override(task_id="done")("done")
        cut = step.override(task_id="cut")("cut")
        collect(done, cut, step.override(task_id="unsent")("unsent"))

    recovery()
"""


@pytest.mark.parametrize("left_as", [S.QUEUED, S.RUNNING])
def test_restart_applies_finished_tries_retries_cut_ones_and_reschedules_unsent(
    tmp_path: Path, monkeypatch, left_as: S
) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    journal = tmp_path / "journal.txt"
    monkeypatch.setenv("RECOVERY_JOURNAL", str(journal))
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "recovery.py").write_text(textwrap.dedent(DAG_FILE))
    live = load_dags(dags).get_dag("recovery")
    engine = make_engine()
    migrate(engine)
    gateway = StoreGateway(engine)
    processor = DagProcessor(dags, engine)
    processor.run_once()
    dag = gateway.get_dag("recovery")
    context = gateway.create_manual_run(dag, None, {})
    gateway.mark_runs_running([(run, dag.version) for run in gateway.runs_to_start() if run.run_id == context.run_id])

    def key(task_id: str) -> TaskInstanceKey:
        return TaskInstanceKey(dag.dag_id, context.run_id, task_id, -1, 1)

    # what a scheduler killed mid-run leaves behind: three instances on try 1, `unsent` queued,
    # the two a worker took queued or (their start reported) running
    began = {"state": left_as, "hostname": "old-host", "pid": 99} if left_as is S.RUNNING else {"state": left_as}
    gateway.save_records(
        dag.dag_id,
        context.run_id,
        [InstanceRecord(t, try_number=1, **began) for t in ("done", "cut")]  # type: ignore[arg-type]
        + [InstanceRecord("unsent", state=S.QUEUED, try_number=1)],
        set(),
    )
    assert {r.task_id: r.state for r in gateway.load_records(dag.dag_id, context.run_id)}["cut"] is left_as
    # `done` finished (its log ends with the outcome); `cut` started but its worker died
    done_item = WorkItem(key=key("done"), context=context)
    done_log = task_log_path(done_item)
    done_log.parent.mkdir(parents=True)
    with done_log.open("w") as log:
        log.write(result_line(run_task(live.get_task("done"), done_item, io.StringIO())))
    cut_log = task_log_path(WorkItem(key=key("cut"), context=context))
    cut_log.parent.mkdir(parents=True)
    cut_log.write_text("[...] {cut} INFO - started, then the machine lost power\n")
    assert journal.read_text() == "done\n"

    scheduler = Scheduler(
        gateway, LocalExecutor(parallelism=2), processor=processor, log=io.StringIO(), log_path=task_log_path
    )
    scheduler.run(until_idle=True)

    rows = {r["task_id"]: r for r in gateway.task_states(dag.dag_id, context.run_id)}
    assert (rows["done"]["state"], rows["done"]["try_number"]) == ("success", 1)
    assert (rows["cut"]["state"], rows["cut"]["try_number"]) == ("success", 2)
    assert (rows["unsent"]["state"], rows["unsent"]["try_number"]) == ("success", 1)
    assert rows["collect"]["state"] == "success"
    assert sorted(journal.read_text().split()) == ["cut", "done", "unsent"]  # `done` ran once
    records = {r.task_id: r for r in gateway.load_records(dag.dag_id, context.run_id)}
    assert records["collect"].return_value == ["DONE", "CUT", "UNSENT"]
    assert [r.state for r in gateway.list_runs(dag.dag_id)] == ["success"]
