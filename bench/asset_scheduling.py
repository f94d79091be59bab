"""Benchmark of data-aware scheduling: one producer task whose asset N DAGs are scheduled on,
through the scheduler, the SQLite store and the local executor (2 workers).

    python bench/asset_scheduling.py              # N = 1, 100, 1000
    python bench/asset_scheduling.py 10 500       # chosen sizes

Per N (each in a fresh process and TRADEWIND_HOME): the time from the producer task's end to the
first and to the last consumer run's start, the time from the trigger until every run ended, and
the scheduler's peak memory.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import hardware

HERE = Path(__file__).resolve().parent


def one(n: int) -> dict[str, float]:
    os.environ["TRADEWIND_HOME"] = tempfile.mkdtemp(prefix="tradewind-bench-assets-")
    os.environ["TRADEWIND_BENCH_N"] = str(n)
    from tradewind.executors.local import LocalExecutor, task_log_path
    from tradewind.processor import DagProcessor
    from tradewind.scheduler.loop import Scheduler
    from tradewind.scheduler.persistence import StoreGateway
    from tradewind.store import queries as q
    from tradewind.store.engine import make_engine, migrate, session_scope

    engine = make_engine()
    migrate(engine)
    gateway = StoreGateway(engine)
    processor = DagProcessor(HERE / "dags" / "assets", engine)
    processor.run_once()
    with session_scope(engine) as session:
        for dag_id in ["asset_producer", *(f"asset_consumer_{i}" for i in range(n))]:
            q.set_paused(session, dag_id, False)
    executor = LocalExecutor(parallelism=2)
    executor.start()
    scheduler = Scheduler(gateway, executor, processor=processor, log=io.StringIO(), log_path=task_log_path)
    started = time.perf_counter()
    gateway.create_manual_run(gateway.get_dag("asset_producer"), None, {}, run_id="go")
    scheduler.run(until_idle=True)
    total = time.perf_counter() - started
    with session_scope(engine) as session:
        [produced] = q.list_task_instances(session, "asset_producer", "go")
        starts = []
        for i in range(n):
            [run] = q.list_dag_runs(session, f"asset_consumer_{i}")
            assert run.state == "success" and run.run_type == "asset_triggered", run
            starts.append(run.start_date)
    return {
        "first": (min(starts) - produced.end_date).total_seconds(),
        "last": (max(starts) - produced.end_date).total_seconds(),
        "total": total,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        print(json.dumps(one(int(sys.argv[2]))))
        return
    sizes = [int(a) for a in sys.argv[1:]] or [1, 100, 1000]
    print(hardware())
    print(f"{'N':>6} {'end->first run (s)':>19} {'end->last run (s)':>18} {'trigger->all done (s)':>22} {'peak MB':>8}")
    for n in sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{n:>6} {r['first']:>19.3f} {r['last']:>18.3f} {r['total']:>22.2f} {r['peak_mb']:>8.0f}")


if __name__ == "__main__":
    main()
