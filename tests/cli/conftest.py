"""Fixtures for end-to-end tests that run the real ``tradewind`` console script."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

TRADEWIND = Path(sys.executable).with_name("tradewind")
REPO_ROOT = Path(__file__).parents[2]


@pytest.fixture
def tradewind_home(tmp_path: Path) -> Path:
    """An empty TRADEWIND_HOME, so no user config or DAGs leak into a test."""
    home = tmp_path / "tradewind_home"
    home.mkdir()
    return home


@pytest.fixture
def run_cli(tradewind_home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``tradewind *args`` as a subprocess and return the CompletedProcess.

    ``env`` adds to (or, with a value of None, removes from) a clean environment in which
    TRADEWIND_HOME points at a temporary folder and no other TRADEWIND_* variable is set.
    ``cwd`` defaults to the repository root so relative paths like ``examples/dags`` work.
    """

    def run(
        *args: Any, env: dict[str, str | None] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
        full_env["TRADEWIND_HOME"] = str(tradewind_home)
        full_env["COLUMNS"] = "250"  # wide tables: no wrapped cells in what the tests read
        full_env.pop("NO_COLOR", None)
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = value
        return subprocess.run(
            [str(TRADEWIND), *(str(a) for a in args)],
            capture_output=True,
            text=True,
            timeout=60,
            env=full_env,
            cwd=cwd or REPO_ROOT,
            check=False,
        )

    return run


@pytest.fixture
def examples_dags() -> Path:
    """The repository's examples/dags folder."""
    return Path(__file__).parents[2] / "examples" / "dags"


@pytest.fixture
def dags_folder(tmp_path: Path) -> Path:
    """An empty DAGs folder for DAG files written by a test."""
    folder = tmp_path / "dags"
    folder.mkdir()
    return folder


@pytest.fixture
def write_dag() -> Callable[[Path, str, str], Path]:
    """``write_dag(folder, "name.py", source)`` writes dedented DAG source and returns the path."""

    def write(folder: Path, name: str, source: str) -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
        return path

    return write
