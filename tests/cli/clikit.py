"""Helpers for CLI tests that call ``tradewind`` in process (click's runner) on a home whose DAGs
folder holds DAG files written by the test."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradewind.cli.main import main


@contextmanager
def home_with_dags(root: Path, files: dict[str, str], **env: str) -> Iterator[Path]:
    """TRADEWIND_HOME at ``root/home`` with ``files`` (name -> source, dedented) in its DAGs folder,
    the variables ``env`` set, and data intervals at their defaults; yields the DAGs folder."""
    folder = root / "home" / "dags"
    folder.mkdir(parents=True)
    for name, source in files.items():
        (folder / name).write_text(textwrap.dedent(source))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRADEWIND_HOME", str(root / "home"))
        patch.setenv("TRADEWIND__CORE__DAGS_FOLDER", str(folder))
        for name, value in env.items():
            patch.setenv(name, value)
        for key in ("CREATE_CRON_DATA_INTERVALS", "CREATE_DELTA_DATA_INTERVALS"):
            patch.delenv(f"TRADEWIND__SCHEDULER__{key}", raising=False)
        yield folder


def cli(*args: str) -> tuple[int, str, str]:
    """``tradewind *args`` in process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr
