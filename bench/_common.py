"""The machine a benchmark ran on, printed above every table."""

from __future__ import annotations

import concurrent.futures
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def hardware() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def _noop() -> None:
    return None


def process_pool_seconds(n: int, workers: int, repeats: int = 3) -> float:
    """Median wall time of N no-op calls through a plain ProcessPoolExecutor (start and shutdown
    included): the baseline every per-task figure is compared with."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(_noop) for _ in range(n)]:
                future.result()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# -- helpers for the benchmarks that run `tradewind` commands as subprocesses (many_dags, wide_map)

# Runs the `tradewind` CLI exactly as the console script does, plus two benchmark hooks: a line
# "BENCH first-turn" on stderr when the scheduler's loop begins its first turn, and on SIGUSR1 (and
# when the loop returns) a line with the loop count and this process's CPU seconds. Written with
# os.write: a signal may land while the scheduler is writing to stderr.
SCHEDULER_WRAPPER = """\
import os
import signal
import sys
import time


def _say(text):
    os.write(2, (text + "\\n").encode())


def main():
    from tradewind.cli import main as tradewind_main
    from tradewind.scheduler import loop

    current = []
    orig_run, orig_poll = loop.Scheduler.run, loop.Scheduler._poll_processor

    def report(*_):
        loops = current[-1].stats.loops if current else -1
        t = os.times()
        _say(f"BENCH loops={loops} cpu={t.user + t.system:.3f} mono={time.monotonic():.3f}")

    def run(self, **kwargs):
        current.append(self)
        stats = orig_run(self, **kwargs)
        report()
        return stats

    def poll(self):  # called first thing in the loop's first turn
        if self.stats.loops == 1 and not getattr(self, "_bench_said", False):
            self._bench_said = True
            _say(f"BENCH first-turn mono={time.monotonic():.3f}")
        return orig_poll(self)

    loop.Scheduler.run, loop.Scheduler._poll_processor = run, poll
    signal.signal(signal.SIGUSR1, report)
    sys.argv[0] = "tradewind"
    sys.exit(tradewind_main())


if __name__ == "__main__":  # worker processes import this module again: only the parent runs the CLI
    main()
"""


def tradewind_bin() -> str:
    """The `tradewind` console script beside this interpreter (the project's venv)."""
    return str(Path(sys.executable).parent / "tradewind")


def write_wrapper(folder: Path) -> Path:
    path = folder / "tradewind_bench_wrapper.py"
    path.write_text(SCHEDULER_WRAPPER)
    return path


def proc_tree(pid: int) -> list[int]:
    """pid and all its descendants alive now (from /proc/<pid>/task/<tid>/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for tid in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{tid}/children") as handle:
                    todo.extend(int(c) for c in handle.read().split())
        except OSError:
            continue
    return found


def status_kb(pid: int, field: str) -> int:
    """A field of /proc/<pid>/status in kB (VmRSS, VmHWM = peak RSS); 0 if the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (its own, not its children's), from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def tree_cpu(pids: list[int]) -> dict[int, float]:
    return {p: cpu_seconds(p) for p in pids}


@dataclass
class Watched:
    """A finished (or killed) subprocess, as watched by ``run_watched``."""

    returncode: int | None
    wall: float
    peak_mb: float  # peak RSS of the process itself (VmHWM, last sample before it exited)
    tree_peak_mb: float  # highest sampled sum of RSS of the process and its descendants
    timed_out: bool
    stderr_path: Path
    first_turn: float | None  # seconds from start to the scheduler loop's first turn (wrapper only)
    cpu: float = 0.0  # CPU seconds (user + system) of the process itself, last sample
    tree_cpu: float = 0.0  # ... of the process and every descendant seen (workers, fork servers, children)

    def stderr_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def bench_lines(stderr_path: Path) -> list[str]:
    try:
        return [line for line in stderr_path.read_text(errors="replace").splitlines() if line.startswith("BENCH ")]
    except OSError:
        return []


def first_turn_after(stderr_path: Path, started_mono: float) -> float | None:
    for line in bench_lines(stderr_path):
        if line.startswith("BENCH first-turn"):
            return float(line.split("mono=")[1]) - started_mono
    return None


def start_process(cmd: list[str], env: dict[str, str], stderr_path: Path) -> subprocess.Popen[bytes]:
    """Start a command in a session of its own (so it and its workers can be killed together)."""
    with stderr_path.open("wb") as err:
        return subprocess.Popen(cmd, env=env, stdout=err, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)


def kill_session(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def run_watched(
    cmd: list[str], env: dict[str, str], stderr_path: Path, timeout: float, interval: float = 0.1
) -> Watched:
    """Run ``cmd`` to its end (killed after ``timeout`` s), sampling its memory and its process
    tree's every ``interval`` s."""
    started_mono = time.monotonic()
    started = time.perf_counter()
    proc = start_process(cmd, env, stderr_path)
    peak_kb = tree_kb = 0
    timed_out = False
    cpu: dict[int, float] = {}  # last CPU seconds seen of each process of the tree
    while proc.poll() is None:
        peak_kb = max(peak_kb, status_kb(proc.pid, "VmHWM"))
        pids = proc_tree(proc.pid)
        tree_kb = max(tree_kb, sum(status_kb(p, "VmRSS") for p in pids))
        for p in pids:
            cpu[p] = max(cpu.get(p, 0.0), cpu_seconds(p))
        if time.perf_counter() - started > timeout:
            timed_out = True
            kill_session(proc)
            break
        time.sleep(interval)
    wall = time.perf_counter() - started
    return Watched(
        proc.returncode,
        wall,
        peak_kb / 1024,
        tree_kb / 1024,
        timed_out,
        stderr_path,
        first_turn_after(stderr_path, started_mono),
        cpu.get(proc.pid, 0.0),
        sum(cpu.values()),
    )


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def tradewind_source() -> str:
    """Where the `tradewind` package these benchmarks run comes from: its folder, and the commit (of
    a snapshot with a COMMIT file beside src/, or of the git checkout: then its working tree, which
    may hold uncommitted changes)."""
    import importlib.util

    spec = importlib.util.find_spec("tradewind")
    if spec is None or spec.origin is None:
        return "tradewind not found"
    package = Path(spec.origin).parent
    root = package.parent.parent
    marker = root / "COMMIT"
    if marker.is_file():
        return f"{package} (snapshot of commit {marker.read_text().strip()})"
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(package)
    return f"{package} (working tree at commit {commit})"
