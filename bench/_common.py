"""The machine a benchmark ran on, printed above every table."""

from __future__ import annotations

import concurrent.futures
import os
import platform
import statistics
import time
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
