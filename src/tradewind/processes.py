"""Starting child processes that cannot import code from the current directory (shared by the
executors and the DAG processor)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def starting_cleanly(path: list[str]) -> Iterator[None]:
    """While a child process starts: a fork server or resource tracker started now gets no ''
    on its path (``PYTHONSAFEPATH``), and the path the child is prepared with (from which it
    runs the main script again, and which Python 3.12+ fork servers preload with) is ``path``."""
    saved_env = os.environ.get("PYTHONSAFEPATH")
    saved_path = sys.path[:]
    os.environ["PYTHONSAFEPATH"] = "1"
    sys.path[:] = path
    try:
        yield
    finally:
        sys.path[:] = saved_path
        if saved_env is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = saved_env


def path_without_cwd() -> list[str]:
    """``sys.path`` less the entries that mean the current directory."""
    here = os.getcwd()
    return [p for p in sys.path if p not in ("", ".", here)]
