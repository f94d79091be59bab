"""Benchmark of the orchestrator: a triggered fan-out run through the scheduler, the SQLite
store and the local executor, from trigger to run success.

    python bench/scheduler.py              # N = 10, 100, 1000, 10000
    python bench/scheduler.py 10 100       # chosen sizes

Per N (each in a fresh process and a fresh TRADEWIND_HOME on this disk): wall time from the
trigger to the run's success, time per task instance, the scheduler process's peak memory, and
beside it the baseline of N no-op calls through ``concurrent.futures.ProcessPoolExecutor`` with
as many workers, and the ratio of the per-task times (the figure we track). Then the latency
from an upstream task's end to its downstream's start, over the 29 edges of a 30-task chain.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from _common import hardware, process_pool_seconds

HERE = Path(__file__).resolve().parent


def one_run(dag_file: str, dag_id: str, n: int, workers: int) -> dict[str, object]:
    """Trigger one run in a fresh home and drive it to the end with a real scheduler."""
    home = Path(tempfile.mkdtemp(prefix="tradewind-bench-"))
    os.environ["TRADEWIND_HOME"] = str(home)
    os.environ["TRADEWIND_BENCH_N"] = str(n)
    os.environ["TRADEWIND__CORE__MAX_MAP_LENGTH"] = str(max(n, 1024))
    from tradewind.executors.local import LocalExecutor, task_log_path
    from tradewind.processor import DagProcessor
    from tradewind.scheduler.loop import Scheduler
    from tradewind.scheduler.persistence import StoreGateway
    from tradewind.store.engine import make_engine, migrate

    engine = make_engine()
    migrate(engine)
    gateway = StoreGateway(engine)
    folder = HERE / "dags" / dag_file
    processor = DagProcessor(folder, engine)
    processor.run_once()
    dag = gateway.get_dag(dag_id)
    executor = LocalExecutor(parallelism=workers)
    executor.start()  # workers up before the clock starts, as in a running scheduler
    scheduler = Scheduler(
        gateway, executor, processor=processor, log=io.StringIO(), max_map_length=max(n, 1024), log_path=task_log_path
    )
    started = time.perf_counter()
    context = gateway.create_manual_run(dag, None, {})
    scheduler.run(until_idle=True)
    wall = time.perf_counter() - started
    runs = {r.run_id: r.state for r in gateway.list_runs(dag_id)}
    assert runs[context.run_id] == "success", runs
    rows = gateway.task_states(dag_id, context.run_id)
    return {
        "wall": wall,
        "instances": len(rows),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rows": rows if dag_id == "bench_chain" else [],
    }


def latencies(rows: list[dict[str, object]]) -> list[float]:
    ordered = sorted(rows, key=lambda r: str(r["task_id"]))
    gaps = []
    for up, down in itertools.pairwise(ordered):
        end = datetime.fromisoformat(str(up["end_date"]))
        start = datetime.fromisoformat(str(down["start_date"]))
        gaps.append((start - end).total_seconds())
    return gaps


def in_subprocess(dag_file: str, dag_id: str, n: int, workers: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--one", dag_file, dag_id, str(n), str(workers)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(sizes: list[int]) -> None:
    workers = os.cpu_count() or 1
    print(f"Hardware: {hardware()}")
    print(f"Scheduler + local executor ({workers} workers) + SQLite store; task logs on this disk\n")
    header = (
        f"{'N':>6} | {'trigger->success (s)':>20} | {'per task (ms)':>13} | {'peak MB':>7} | "
        f"{'pool baseline (s)':>17} | {'per call (ms)':>13} | {'ratio':>5}"
    )
    print(header)
    print("-" * len(header))
    for n in sizes:
        result = in_subprocess("fanout_dag.py", "bench_fanout", n, workers)
        base = process_pool_seconds(n, workers)
        per_task = float(result["wall"]) / int(result["instances"]) * 1000  # type: ignore[arg-type]
        per_call = base / n * 1000
        print(
            f"{n:>6} | {float(result['wall']):>20.3f} | {per_task:>13.3f} | {float(result['peak_mb']):>7.0f} | "  # type: ignore[arg-type]
            f"{base:>17.3f} | {per_call:>13.3f} | {per_task / per_call:>5.1f}"
        )
    chain = in_subprocess("chain_dag.py", "bench_chain", 0, workers)
    gaps = sorted(latencies(chain["rows"]))  # type: ignore[arg-type]
    p95 = gaps[min(len(gaps) - 1, round(0.95 * (len(gaps) - 1)))]
    print(
        f"\nUpstream end -> downstream start over {len(gaps)} edges: "
        f"median {statistics.median(gaps) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(json.dumps(one_run(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))))
    else:
        main([int(a) for a in sys.argv[1:]] or [10, 100, 1000, 10000])
