"""Benchmark of one wide mapped run: generate -> process.expand (N instances) -> total.

    python bench/wide_map.py              # N = 10,000 and 100,000
    python bench/wide_map.py --n 10000    # one size (repeat --n for several)

Per N, in a fresh TRADEWIND_HOME (SQLite) in a temp dir: ``tradewind dags trigger wide_map``
(which brings the store up to date with the DAGs folder first: the file's first parse), then
``tradewind scheduler --exit-when-idle``. Reported: wall time from the trigger command's start to
the scheduler's exit with the run succeeded (checked in the store: N + 2 task instances
succeeded, ``total`` returned sum(range(N))), time per instance, the scheduler process's peak RSS
(VmHWM) and its process tree's (workers, fork servers; sampled), and beside it N no-op calls
through a plain ``concurrent.futures.ProcessPoolExecutor`` with as many workers, as in
bench/scheduler.py. The scheduler runs through the wrapper of ``_common.SCHEDULER_WRAPPER`` (the
`tradewind` CLI unchanged, plus a marker when its loop begins).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import hardware, met, process_pool_seconds, run_watched, tradewind_bin, tradewind_source, write_wrapper

DAG_FILE = '''\
"""One run mapping {n} instances (benchmark)."""
from datetime import datetime

from airflow.decorators import dag, task


@dag(dag_id="wide_map", start_date=datetime(2025, 1, 1), schedule=None, catchup=False)
def wide_map():
    @task
    def generate():
        return list(range({n}))

    @task
    def process(x):
        return x

    @task
    def total(values):
        return sum(values)

    total(process.expand(x=generate()))


wide_map()
'''

DEFAULT_MAX_MAP_LENGTH = 100_000
TARGET_RSS_MB = {100_000: 1024.0}
TARGET_PER_TI_MS = {100_000: 0.3}


def one(n: int, timeout: float) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"tradewind-wide-map-{n}-"))
    home, dags = root / "home", root / "dags"
    home.mkdir()
    dags.mkdir()
    (dags / "wide_map.py").write_text(DAG_FILE.format(n=n))
    env = dict(os.environ, TRADEWIND_HOME=str(home))
    env.pop("TRADEWIND__CORE__DAGS_FOLDER", None)
    if n > DEFAULT_MAX_MAP_LENGTH:
        env["TRADEWIND__CORE__MAX_MAP_LENGTH"] = str(n)
    result: dict[str, Any] = {"home": home}

    started = time.perf_counter()
    out = subprocess.run(
        [tradewind_bin(), "dags", "trigger", "wide_map", "--dags-folder", str(dags), "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    result["trigger"] = time.perf_counter() - started
    if out.returncode != 0:
        result["error"] = f"dags trigger failed ({out.returncode}):\n{out.stderr[-4000:]}"
        return result
    run_id = json.loads(out.stdout)["run_id"]

    wrapper = write_wrapper(home)
    err = home / "scheduler.stderr"
    cmd = [sys.executable, str(wrapper), "scheduler", "--dags-folder", str(dags), "--exit-when-idle"]
    watched = run_watched(cmd, env, err, timeout)
    result["total"] = time.perf_counter() - started
    result["watched"] = watched

    with sqlite3.connect(home / "tradewind.db") as db:
        row = db.execute(
            "select state, start_date, end_date from dag_run where dag_id = 'wide_map' and run_id = ?", (run_id,)
        ).fetchone()
        tis = dict(
            db.execute(
                "select coalesce(state, 'none'), count(*) from task_instance where dag_id = 'wide_map' and run_id = ? "
                "group by 1",
                (run_id,),
            ).fetchall()
        )
        value = db.execute(
            "select value from xcom where dag_id = 'wide_map' and run_id = ? and task_id = 'total' "
            "and key = 'return_value'",
            (run_id,),
        ).fetchone()
    state, run_start, run_end = row if row else (None, None, None)
    result["state"], result["tis"] = state, tis
    # SQLite gives a JSON column back as stored: text, or a number (NUMERIC affinity)
    result["total_value"] = (json.loads(value[0]) if isinstance(value[0], str) else value[0]) if value else None
    if run_start and run_end:
        from datetime import datetime

        result["in_store"] = (datetime.fromisoformat(run_end) - datetime.fromisoformat(run_start)).total_seconds()
    ok = (
        not watched.timed_out
        and watched.returncode == 0
        and state == "success"
        and tis.get("success", 0) == n + 2
        and sum(tis.values()) == n + 2
        and result["total_value"] == sum(range(n))
    )
    result["ok"] = ok
    if not ok:
        result["error"] = (
            f"scheduler --exit-when-idle {'timed out' if watched.timed_out else f'exited {watched.returncode}'} "
            f"after {watched.wall:.1f} s; run {run_id}: {state}; task instances {tis}; "
            f"total returned {result['total_value']!r}\nstderr tail ({err}):\n{watched.stderr_tail()}"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--n", type=int, action="append", help="mapped instances (repeatable; default 10000 and 100000)"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a scheduler run is killed")
    args = parser.parse_args()
    sizes = args.n or [10_000, 100_000]
    workers = os.cpu_count() or 1

    print(f"Hardware: {hardware()}; load average {os.getloadavg()[0]:.2f} at start")
    print(f"tradewind: {tradewind_source()}")
    print(
        f"One run of generate -> process.expand (N) -> total; `tradewind dags trigger` then `tradewind scheduler "
        f"--exit-when-idle` ({workers} local workers, SQLite store, task logs on this disk)\n"
    )
    results = {n: one(n, args.timeout) for n in sizes}

    header = (
        f"{'N':>7} | {'trigger (s)':>11} | {'scheduler (s)':>13} | {'to 1st turn (s)':>15} | "
        f"{'trigger->success (s)':>20} | {'TIs ok':>7} | {'per TI (ms)':>11} | {'sched CPU (s)':>13} | "
        f"{'tree CPU (s)':>12} | {'sched peak MB':>13} | "
        f"{'tree peak MB':>12} | {'pool baseline (s)':>17} | {'per call (ms)':>13} | {'ratio':>5} | targets"
    )
    print(header)
    print("-" * len(header))
    failures = []
    for n, r in results.items():
        w = r.get("watched")
        if w is None:
            print(f"{n:>7,} | failed, see below")
            failures.append(f"N={n}: {r['error']}")
            continue
        if not r["ok"]:
            failures.append(f"N={n}: {r['error']}")
        instances = n + 2
        total = float(r["total"])
        per_ti = total / instances * 1000
        base = process_pool_seconds(n, workers, repeats=3 if n <= 10_000 else 1)
        per_call = base / n * 1000
        targets = []
        if n in TARGET_RSS_MB:
            targets.append(f"peak < {TARGET_RSS_MB[n]:g} MB: {met(bool(r['ok']) and w.peak_mb < TARGET_RSS_MB[n])}")
        if n in TARGET_PER_TI_MS:
            targets.append(f"< {TARGET_PER_TI_MS[n]:g} ms/TI: {met(bool(r['ok']) and per_ti < TARGET_PER_TI_MS[n])}")
        tis = r["tis"]
        print(
            f"{n:>7,} | {float(r['trigger']):>11.2f} | {w.wall:>13.2f} | {w.first_turn or float('nan'):>15.2f} | "
            f"{total:>20.2f} | {tis.get('success', 0):>7,} | {per_ti:>11.3f} | {w.cpu:>13.1f} | "
            f"{w.tree_cpu:>12.1f} | {w.peak_mb:>13.0f} | "
            f"{w.tree_peak_mb:>12.0f} | {base:>17.2f} | {per_call:>13.3f} | {per_ti / per_call:>5.1f} | "
            f"{'; '.join(targets) or '-'}" + ("" if r["ok"] else "  (run FAILED)")
        )
    print(
        "trigger: `tradewind dags trigger` wall time (process start, store migration, first parse of the file in a "
        "child, the run's row); scheduler: `tradewind scheduler --exit-when-idle` wall time; to 1st turn: from the "
        "scheduler's start to the beginning of its loop's first turn; trigger->success: both; per TI: "
        "trigger->success / (N + 2); sched CPU: user+system seconds of the scheduler process; tree: with its "
        "workers and fork servers (sampled every 0.1 s); peak MB: the scheduler's VmHWM, the tree's highest "
        "sampled sum of RSS; "
        "pool baseline: N no-op calls through ProcessPoolExecutor (median of 3 for "
        "N <= 10,000, else one)"
    )
    in_store = ", ".join(f"N={n:,}: {float(r['in_store']):.2f} s" for n, r in results.items() if "in_store" in r)
    if in_store:
        print(f"run start -> end as recorded in the store: {in_store}")
    if failures:
        print("\nFailures:")
        for failure in failures:
            print(failure)
        sys.exit(1)


if __name__ == "__main__":
    main()
