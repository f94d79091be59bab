"""kill -9 of the scheduler while a run's DAG callback is being called: the run's end and the
callback it owes were written together, so the next scheduler calls the callback (at least
once, as Airflow's callback requests), and a third one owes nothing."""

from __future__ import annotations

import textwrap

import pytest
from faultkit import Install

pytestmark = pytest.mark.slow

DAG = """
    import os
    import signal
    import time
    from datetime import datetime
    from pathlib import Path

    from tradewind import dag, task

    OUT = Path(os.environ["FAULT_JOURNAL"]).parent


    def on_success(context):
        if not (OUT / "first-call").exists():  # the first call: the scheduler dies before it ends
            (OUT / "first-call").write_text("called")
            for _ in range(200):
                if (OUT / "scheduler.pid").exists():
                    break
                time.sleep(0.05)
            os.kill(int((OUT / "scheduler.pid").read_text()), signal.SIGKILL)
            return
        with open(OUT / "callbacks.txt", "a") as out:
            out.write(f"{context['reason']} {context['ti'].task_id}\\n")


    @dag(start_date=datetime(2025, 1, 1), schedule=None, on_success_callback=on_success)
    def crash_callback():
        @task
        def only():
            return 1

        only()


    crash_callback()
"""


def test_a_dag_callback_cut_by_a_scheduler_kill_is_called_by_the_next_scheduler(install: Install) -> None:
    (install.dags / "crash_callback.py").write_text(textwrap.dedent(DAG))
    out = install.journal.parent
    run_id = install.trigger("crash_callback")
    first = install.scheduler("--parallelism", "1")
    (out / "scheduler.pid").write_text(str(first.pid))
    first.wait(timeout=120)
    assert first.returncode == -9, install.err_of(first)
    assert (out / "first-call").exists() and not (out / "callbacks.txt").exists()
    assert install.run_state(run_id, "crash_callback") == "success"  # written before the callback was sent

    for _ in range(2):  # the next scheduler calls it; the one after that owes nothing
        again = install.scheduler("--exit-when-idle", "--parallelism", "1")
        again.wait(timeout=120)
        assert again.returncode == 0, install.err_of(again)
    assert (out / "callbacks.txt").read_text().splitlines() == ["success only"]
    assert install.run_state(run_id, "crash_callback") == "success"
