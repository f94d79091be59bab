"""Benchmark of the local executor on a fan-out of N mapped tasks, against a plain process pool.

    python bench/local_executor.py                  # N = 10, 100, 1000, 10000
    python bench/local_executor.py 100 1000         # chosen sizes
    python bench/local_executor.py --log-folder DIR # task logs on that disk (default: tmpfs)

Per N, it runs bench/dags/fanout_dag.py (generate -> process.expand(N items) -> total, N + 2 task
instances) through ``drive`` with a ``LocalExecutor`` and prints the median wall time of the
run (workers started and stopped included, DAG file parse in this process excluded), the time
per task instance, and as a baseline the wall time of N no-op calls through
``concurrent.futures.ProcessPoolExecutor(max_workers=parallelism)`` (pool start and shutdown
included), with the ratio of the two per-task times. Also the pickled size of one mapped
instance's WorkItem and of the reducing task's WorkItem.

Every task try writes its own log file (a folder per instance), so the log disk matters a lot;
by default logs go to a tmpfs folder to measure the executor rather than the disk.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import pickle
import shutil
import statistics
import tempfile
import time
from collections.abc import Collection, Sequence
from pathlib import Path

from _common import hardware, process_pool_seconds

from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.executors.local import LocalExecutor
from tradewind.loader import load_dags
from tradewind.runtime.work import TaskResult, TaskStarted, WorkItem
from tradewind.scheduler.dag_test import drive, make_run_context
from tradewind.scheduler.run_state import RunState

HERE = Path(__file__).resolve().parent
REPEATS = 3


class Measured:
    """Passes calls to the LocalExecutor; returns at once when nothing is in flight (``drive``
    would otherwise wait out its 0.5 s poll once at the end), and notes WorkItem sizes."""

    def __init__(self, executor: LocalExecutor) -> None:
        self.executor = executor
        self.in_flight = 0
        self.item_bytes: dict[str, int] = {}

    def start(self) -> None:
        self.executor.start()

    def submit(self, items: Sequence[WorkItem]) -> None:
        for item in items:
            if item.key.task_id not in self.item_bytes:
                self.item_bytes[item.key.task_id] = len(pickle.dumps(item))
        self.in_flight += len(items)
        self.executor.submit(items)

    def next_results(self, timeout: float | None) -> list[TaskResult]:
        if not self.in_flight:
            return []
        results = self.executor.next_results(timeout)
        self.in_flight -= len(results)
        return results

    def take_started(self) -> list[TaskStarted]:
        return self.executor.take_started()

    def kill(self, keys: Collection[TaskInstanceKey], reason: str) -> None:
        self.executor.kill(keys, reason)

    def stop(self, wait: bool = True) -> None:
        self.executor.stop(wait)


def local_run(n: int, parallelism: int, logs: Path) -> tuple[float, dict[str, int]]:
    """Median seconds of one whole DAG run of fanout_dag with N items, and WorkItem sizes."""
    os.environ["TRADEWIND_BENCH_N"] = str(n)  # read by the DAG file here and in the workers
    dag = load_dags(HERE / "dags" / "fanout_dag.py").get_dag("bench_fanout")
    times = []
    sizes: dict[str, int] = {}
    for repeat in range(REPEATS):
        folder = logs / f"n{n}-{repeat}"
        executor = Measured(LocalExecutor(parallelism=parallelism, log_folder=folder))
        state = RunState(dag, make_run_context(dag), max_map_length=max(n, 1024))
        start = time.perf_counter()
        drive(state, executor, io.StringIO())
        times.append(time.perf_counter() - start)
        total = next(r for r in state.records() if r.task_id == "total")
        assert str(state.dag_run_state()) == "success" and total.return_value == n * (n - 1), "the run failed"
        sizes = executor.item_bytes
        shutil.rmtree(folder, ignore_errors=True)
    return statistics.median(times), sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[10, 100, 1000, 10000])
    parser.add_argument("--parallelism", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--log-folder", type=Path, default=None, help="where task logs go (default: tmpfs)")
    args = parser.parse_args()
    shm = Path("/dev/shm")
    base = args.log_folder or (shm if shm.is_dir() else None)
    logs = Path(tempfile.mkdtemp(prefix="tradewind-bench-", dir=base))

    print(f"Hardware: {hardware()}")
    print(f"Parallelism: {args.parallelism} workers; task logs under {logs}")
    print(f"Baseline start method: {multiprocessing.get_start_method()}; tradewind workers: forkserver")
    started = time.perf_counter()
    warm = LocalExecutor(parallelism=args.parallelism, log_folder=logs / "warm")
    warm.start()
    warm.stop()
    print(
        f"First start of the worker pool (forkserver included, not in the table): {time.perf_counter() - started:.3f} s"
    )
    print(f"Median of {REPEATS} runs each.\n")
    header = (
        f"{'N':>6} | {'local wall (s)':>14} | {'per task (us)':>13} | {'pool wall (s)':>13} | "
        f"{'per call (us)':>13} | {'ratio':>5} | {'mapped item (B)':>15} | {'reduce item (B)':>15}"
    )
    print(header)
    print("-" * len(header))
    try:
        for n in args.sizes:
            wall, sizes = local_run(n, args.parallelism, logs)
            per_task = wall / (n + 2) * 1e6
            baseline = process_pool_seconds(n, args.parallelism)
            per_call = baseline / n * 1e6
            print(
                f"{n:>6} | {wall:>14.3f} | {per_task:>13.0f} | {baseline:>13.3f} | {per_call:>13.0f} | "
                f"{per_task / per_call:>5.1f} | {sizes.get('process', 0):>15} | {sizes.get('total', 0):>15}",
                flush=True,
            )
    finally:
        shutil.rmtree(logs, ignore_errors=True)


if __name__ == "__main__":
    main()
