"""Benchmark of ``tradewind dags test`` on a fan-out of N mapped tasks.

    python bench/dags_test.py            # N = 10, 100, 1000
    python bench/dags_test.py 10 100     # chosen sizes

Prints, per N: the wall time of the whole command (process start, imports, DAG parse, run,
output), the in-process run time, and the per-task overhead (run time / task instances).
Also the time of a bare ``python -c pass`` on this machine, for scale.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import hardware

HERE = Path(__file__).resolve().parent
TRADEWIND = Path(sys.executable).with_name("tradewind")
REPEATS = 3


def wall(cmd: list[str], env: dict[str, str]) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def in_process(n: int) -> float:
    """Median seconds for the run itself (DAG already loaded), logs written to memory."""
    os.environ["TRADEWIND_BENCH_N"] = str(n)
    from tradewind.loader import load_dags
    from tradewind.scheduler.dag_test import test_dag

    dag = load_dags(HERE / "dags" / "fanout_dag.py").get_dag("bench_fanout")
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        state = test_dag(dag, io.StringIO())
        times.append(time.perf_counter() - start)
        assert str(state.dag_run_state()) == "success"
    return statistics.median(times)


def main(sizes: list[int]) -> None:
    env = dict(os.environ)
    bare = wall([sys.executable, "-c", "pass"], env)
    print(f"Hardware: {hardware()}")
    print(f"Bare `python -c pass`: {bare * 1000:.0f} ms (median of {REPEATS})\n")
    header = f"{'N':>6} | {'dags test wall (s)':>18} | {'run in-process (s)':>18} | {'per task (ms)':>13}"
    print(header)
    print("-" * len(header))
    for n in sizes:
        env["TRADEWIND_BENCH_N"] = str(n)
        cmd = [
            str(TRADEWIND),
            "dags",
            "test",
            "bench_fanout",
            "--dags-folder",
            str(HERE / "dags" / "fanout_dag.py"),
            "-o",
            "json",
        ]
        total = wall(cmd, env)
        run = in_process(n)
        per_task = run / (n + 2) * 1000
        print(f"{n:>6} | {total:>18.3f} | {run:>18.3f} | {per_task:>13.3f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 100, 1000])
