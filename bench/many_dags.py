"""Benchmark of many small DAGs: K DAGs from one factory file, each with one run due at start.

    python bench/many_dags.py                 # K = 1,000 and 10,000
    python bench/many_dags.py --k 1000        # one size (repeat --k for several)
    python bench/many_dags.py --k 1000 --profile   # also cProfile one scheduler run, top 15

The file makes ``client_0`` … ``client_{K-1}``: EmptyOperator a >> b >> c, schedule "@daily",
start_date 2025-01-01, catchup=False, registered through ``globals()``; so each DAG has exactly
one run due when the scheduler starts (yesterday's interval). Per K, in a fresh TRADEWIND_HOME
(SQLite) in a temp dir:

(a) ``tradewind dag-processor --once`` (the first parse, timed on its own), then
    ``tradewind scheduler --exit-when-idle``: wall time from its start to its exit, checked in
    the store (K runs succeeded, 3K task instances succeeded), time per instance, the scheduler
    process's peak RSS (VmHWM) and its process tree's (workers, fork servers; sampled).
(b) idle: ``tradewind scheduler`` again on the same home, with nothing due until tomorrow: its
    CPU use over ``--idle-seconds`` (default 20) as % of one core (the scheduler process, and its
    whole tree), loop turns per second and CPU per turn.

The scheduler runs as a subprocess through a small wrapper (``_common.SCHEDULER_WRAPPER``) that
runs the `tradewind` CLI unchanged and reports the loop's turn count and CPU time on SIGUSR1.
"""

from __future__ import annotations

import argparse
import os
import pstats
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    bench_lines,
    cpu_seconds,
    first_turn_after,
    hardware,
    kill_session,
    met,
    proc_tree,
    process_pool_seconds,
    run_watched,
    start_process,
    status_kb,
    tradewind_bin,
    tradewind_source,
    tree_cpu,
    write_wrapper,
)

FACTORY = '''\
"""{k} DAGs from one file (benchmark)."""
from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

for i in range({k}):
    with DAG(
        dag_id=f"client_{{i}}",
        schedule="@daily",
        start_date=datetime(2025, 1, 1),
        catchup=False,
    ) as dag:
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
        c = EmptyOperator(task_id="c")
        a >> b >> c
    globals()[f"client_{{i}}"] = dag
'''

TARGET_RUN = {1_000: 10.0, 10_000: 90.0}  # seconds, start -> all succeeded
TARGET_IDLE = {10_000: 5.0}  # % of a core
AIRFLOW = "Airflow 3.3.2, measured earlier on this class of machine"
AIRFLOW_RUN = {1_000: 302.0}
AIRFLOW_IDLE = 2.0  # % of a core (number of DAGs not stated with it)


def prepare(k: int) -> tuple[Path, Path, dict[str, str]]:
    root = Path(tempfile.mkdtemp(prefix=f"tradewind-many-dags-{k}-"))
    home, dags = root / "home", root / "dags"
    home.mkdir()
    dags.mkdir()
    (dags / "clients.py").write_text(FACTORY.format(k=k))
    env = dict(os.environ, TRADEWIND_HOME=str(home))
    env.pop("TRADEWIND__CORE__DAGS_FOLDER", None)
    return home, dags, env


def first_parse(dags: Path, env: dict[str, str], home: Path, timeout: float) -> dict[str, Any]:
    started = time.perf_counter()
    out = subprocess.run(
        [tradewind_bin(), "dag-processor", "--once", "--dags-folder", str(dags)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"dag-processor --once failed ({out.returncode}):\n{out.stderr[-4000:]}")
    with sqlite3.connect(home / "tradewind.db") as db:
        (seconds,) = db.execute("select sum(parse_seconds) from dag_file").fetchone()
        (dag_count,) = db.execute("select count(*) from dag where is_active").fetchone()
    return {"wall": wall, "import_seconds": seconds or 0.0, "dags": dag_count, "stdout": out.stdout.strip()}


def counts(home: Path) -> dict[str, dict[str, int]]:
    with sqlite3.connect(home / "tradewind.db") as db:
        runs = dict(db.execute("select state, count(*) from dag_run group by state").fetchall())
        tis = dict(db.execute("select coalesce(state, 'none'), count(*) from task_instance group by 1").fetchall())
    return {"runs": runs, "tis": tis}


def scheduler_cmd(wrapper: Path, dags: Path, *extra: str) -> list[str]:
    return [sys.executable, str(wrapper), "scheduler", "--dags-folder", str(dags), *extra]


def start_to_done(k: int, home: Path, dags: Path, env: dict[str, str], timeout: float) -> dict[str, Any]:
    wrapper = write_wrapper(home)
    err = home / "scheduler-run.stderr"
    watched = run_watched(scheduler_cmd(wrapper, dags, "--exit-when-idle"), env, err, timeout)
    found = counts(home)
    ok = (
        not watched.timed_out
        and watched.returncode == 0
        and found["runs"].get("success", 0) == k
        and found["tis"].get("success", 0) == 3 * k
        and sum(found["runs"].values()) == k
        and sum(found["tis"].values()) == 3 * k
    )
    loops = [line for line in bench_lines(err) if line.startswith("BENCH loops=")]
    return {"watched": watched, "counts": found, "ok": ok, "last": loops[-1] if loops else ""}


def _bench_value(line: str, key: str) -> float:
    for part in line.split():
        if part.startswith(key + "="):
            return float(part.split("=", 1)[1])
    raise ValueError(f"{key} not in {line!r}")


def _signal_and_read(proc: subprocess.Popen[bytes], err: Path) -> str:
    before = len(bench_lines(err))
    os.kill(proc.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [line for line in bench_lines(err) if line.startswith("BENCH loops=")]
        if len(bench_lines(err)) > before and lines:
            return lines[-1]
        time.sleep(0.02)
    raise RuntimeError("the scheduler did not answer SIGUSR1")


def idle(home: Path, dags: Path, env: dict[str, str], seconds: float, timeout: float) -> dict[str, Any]:
    wrapper = write_wrapper(home)
    err = home / "scheduler-idle.stderr"
    runs_before = counts(home)["runs"]
    started_mono = time.monotonic()
    proc = start_process(scheduler_cmd(wrapper, dags), env, err)
    try:
        while first_turn_after(err, started_mono) is None:
            if proc.poll() is not None:
                raise RuntimeError(f"the idle scheduler exited ({proc.returncode}) before its first turn")
            if time.monotonic() - started_mono > timeout:
                raise TimeoutError("the idle scheduler made no loop turn in time")
            time.sleep(0.05)
        startup = first_turn_after(err, started_mono)
        time.sleep(2.0)  # let the first turns' work settle
        pids = proc_tree(proc.pid)
        first = _signal_and_read(proc, err)
        t0, own0, tree0 = time.monotonic(), cpu_seconds(proc.pid), tree_cpu(pids)
        time.sleep(seconds)
        last = _signal_and_read(proc, err)
        t1, own1, tree1 = time.monotonic(), cpu_seconds(proc.pid), tree_cpu(pids)
        rss_mb = status_kb(proc.pid, "VmRSS") / 1024
        window = t1 - t0
        loops = _bench_value(last, "loops") - _bench_value(first, "loops")
        own_cpu = own1 - own0
        tree = sum(tree1[p] - tree0[p] for p in tree0 if p in tree1)
        alive = proc.poll() is None
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                kill_session(proc)
    runs_after = counts(home)["runs"]
    return {
        "startup": startup,
        "window": window,
        "own_pct": own_cpu / window * 100,
        "tree_pct": tree / window * 100,
        "processes": len(pids),
        "turns_per_s": loops / window,
        "cpu_per_turn_ms": own_cpu / loops * 1000 if loops else float("nan"),
        "rss_mb": rss_mb,
        "new_runs": sum(runs_after.values()) - sum(runs_before.values()),
        "alive": alive,
        "stderr": err,
    }


def profile(k: int, timeout: float) -> None:
    home, dags, env = prepare(k)
    first_parse(dags, env, home, timeout)
    wrapper = write_wrapper(home)
    out = home / "scheduler.prof"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(out), str(wrapper), "scheduler", "--dags-folder", str(dags)]
    watched = run_watched([*cmd, "--exit-when-idle"], env, home / "scheduler-profile.stderr", timeout)
    print(
        f"\ncProfile of `tradewind scheduler --exit-when-idle`, K = {k:,} (scheduler process only; "
        f"{watched.wall:.1f} s under the profiler; {out}):"
    )
    if watched.returncode != 0 or not out.exists():
        print(f"  failed (exit {watched.returncode}); stderr tail:\n{watched.stderr_tail()}")
        return
    stats = pstats.Stats(str(out))
    # the 15 costliest entries below the CLI (the wrapper's and click's frames left out)
    below_cli = r"^(?!.*(click/|tradewind_bench_wrapper|cli/orchestrator|builtins\.exec))"
    stats.sort_stats("cumulative").print_stats(below_cli, 15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, action="append", help="number of DAGs (repeatable; default 1000 and 10000)")
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a scheduler run is killed")
    parser.add_argument("--profile", action="store_true", help="also cProfile one scheduler run per K")
    args = parser.parse_args()
    sizes = args.k or [1_000, 10_000]
    workers = os.cpu_count() or 1

    print(f"Hardware: {hardware()}; load average {os.getloadavg()[0]:.2f} at start")
    print(f"tradewind: {tradewind_source()}")
    print(
        f"One factory file of K DAGs (a >> b >> c, EmptyOperator, @daily, one run due each); SQLite store; "
        f"scheduler with its DAG processor and {workers} local workers\n"
    )
    results: dict[int, dict[str, Any]] = {}
    failures: list[str] = []
    for k in sizes:
        home, dags, env = prepare(k)
        entry: dict[str, Any] = {"home": home}
        results[k] = entry
        try:
            entry["parse"] = first_parse(dags, env, home, args.timeout)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            failures.append(f"K={k}: first parse failed: {exc}")
            continue
        run = start_to_done(k, home, dags, env, args.timeout)
        entry["run"] = run
        if not run["ok"]:
            w = run["watched"]
            failures.append(
                f"K={k}: scheduler --exit-when-idle {'timed out' if w.timed_out else f'exited {w.returncode}'} "
                f"after {w.wall:.1f} s; store: runs {run['counts']['runs']}, task instances {run['counts']['tis']}\n"
                f"stderr tail ({w.stderr_path}):\n{w.stderr_tail()}"
            )
            continue
        try:
            entry["idle"] = idle(home, dags, env, args.idle_seconds, args.timeout)
        except (RuntimeError, TimeoutError) as exc:
            tail = (home / "scheduler-idle.stderr").read_text()[-4000:]
            failures.append(f"K={k}: idle scheduler: {exc}\nstderr tail:\n{tail}")

    # (a)
    header = (
        f"{'K':>6} | {'first parse (s)':>15} | {'start->all succeeded (s)':>24} | {'to 1st turn (s)':>15} | "
        f"{'runs ok':>7} | {'TIs ok':>6} | {'per TI (ms)':>11} | {'sched CPU (s)':>13} | {'tree CPU (s)':>12} | "
        f"{'sched peak MB':>13} | {'tree peak MB':>12} | {'pool 3K calls (s)':>17} | target"
    )
    print("(a) start -> every run succeeded: `tradewind scheduler --exit-when-idle`")
    print(header)
    print("-" * len(header))
    for k, entry in results.items():
        parse = entry.get("parse")
        done = entry.get("run")
        target = TARGET_RUN.get(k)
        if parse is None or done is None:
            print(f"{k:>6,} | failed, see below")
            continue
        w = done["watched"]
        c = done["counts"]
        pool = process_pool_seconds(3 * k, workers)
        ok_runs, ok_tis = c["runs"].get("success", 0), c["tis"].get("success", 0)
        per_ti = w.wall / (3 * k) * 1000
        verdict = f"< {target:g} s: {met(bool(done['ok']) and w.wall < target)}" if target else "-"
        print(
            f"{k:>6,} | {parse['wall']:>15.2f} | {w.wall:>24.2f} | {w.first_turn or float('nan'):>15.2f} | "
            f"{ok_runs:>7,} | {ok_tis:>6,} | {per_ti:>11.3f} | {w.cpu:>13.1f} | {w.tree_cpu:>12.1f} | "
            f"{w.peak_mb:>13.0f} | {w.tree_peak_mb:>12.0f} | {pool:>17.2f} | {verdict}"
        )
    for k, secs in AIRFLOW_RUN.items():
        print(
            f"{k:>6,} | {'':>15} | {secs:>24.0f} | {'':>15} | {'':>7} | {'':>6} | {secs / (3 * k) * 1000:>11.1f} | "
            f"{'':>13} | {'':>12} | {'':>13} | {'':>12} | {'':>17} | {AIRFLOW}"
        )
    print(
        "first parse: `tradewind dag-processor --once` wall time (process start, store migration, the file's "
        "import in a child, storing K versions); child's import+serialise time: "
        + ", ".join(f"K={k:,}: {e['parse']['import_seconds']:.2f} s" for k, e in results.items() if "parse" in e)
    )
    print(
        "sched CPU: user+system seconds of the scheduler process; tree: with its workers, fork servers and "
        "DAG-processor children (sampled every 0.1 s); peak MB: the scheduler's VmHWM, the tree's highest "
        "sampled sum of RSS"
    )
    print(
        "to 1st turn: from the scheduler's start to the beginning of its loop's first turn (imports, store, "
        "worker pool start, DAG-processor check of the folder, loading the K stored DAGs); the runs are created "
        "in that turn"
    )

    # (b)
    header = (
        f"{'K':>6} | {'startup (s)':>11} | {'window (s)':>10} | {'scheduler % core':>16} | {'tree % core':>11} | "
        f"{'turns/s':>7} | {'CPU per turn (ms)':>17} | {'RSS MB':>6} | {'new runs':>8} | target"
    )
    print("\n(b) idle: `tradewind scheduler` with every run done and nothing due until tomorrow")
    print(header)
    print("-" * len(header))
    for k, entry in results.items():
        data = entry.get("idle")
        if data is None:
            print(f"{k:>6,} | not measured (see below)")
            continue
        target = TARGET_IDLE.get(k)
        verdict = f"< {target:g} %: {met(data['own_pct'] < target)}" if target else "-"
        print(
            f"{k:>6,} | {data['startup']:>11.2f} | {data['window']:>10.1f} | {data['own_pct']:>16.2f} | "
            f"{data['tree_pct']:>11.2f} | {data['turns_per_s']:>7.2f} | {data['cpu_per_turn_ms']:>17.2f} | "
            f"{data['rss_mb']:>6.0f} | {data['new_runs']:>8} | {verdict}"
        )
    if AIRFLOW_IDLE:
        blank = f"{'':>11} | {'':>7} | {'':>17} | {'':>6} | {'':>8}"
        print(f"{'':>6} | {'':>11} | {'':>10} | {AIRFLOW_IDLE:>16.0f} | {blank} | {AIRFLOW}")
    print("startup: from the scheduler's start to the beginning of its loop's first turn; the window begins 2 s later")
    print(
        "scheduler % core: utime+stime of the scheduler process over the window; tree: with its workers, fork "
        "servers and DAG-processor children; turns and CPU per turn from the loop's own counter"
    )

    if failures:
        print("\nFailures:")
        for failure in failures:
            print(failure)
    if args.profile:
        for k in sizes:
            profile(k, args.timeout)
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
