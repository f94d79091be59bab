"""Fixtures of the fault-injection suite (helpers: faultkit.py): an installation per test on
SQLite or on the session's throwaway PostgreSQL server, and a small filesystem to fill."""

from __future__ import annotations

import importlib.util
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from faultkit import MAPPED_DAG, Install, kill_tree, mounted_tmpfs

# the session's throwaway PostgreSQL server, as the store tests start it
_spec = importlib.util.spec_from_file_location("_store_conftest", Path(__file__).parents[1] / "store" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_store_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_store_conftest)
postgres_url = _store_conftest.postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def install(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[Install]:
    """A fresh installation on ``backend`` with the mapped DAG and an empty journal."""
    home, dags = tmp_path / "home", tmp_path / "dags"
    dags.mkdir()
    (dags / "faults.py").write_text(textwrap.dedent(MAPPED_DAG))
    if backend == "postgresql":
        url = str(request.getfixturevalue("postgres_url"))
        from tradewind.store import make_engine

        engine = make_engine(url)
        _store_conftest.reset(engine)
        engine.dispose()
    else:
        url = f"sqlite:///{home / 'tradewind.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env.update(
        TRADEWIND_HOME=str(home),
        TRADEWIND__CORE__DAGS_FOLDER=str(dags),
        TRADEWIND__DATABASE__URL=url,
        FAULT_JOURNAL=str(tmp_path / "journal.txt"),
        COLUMNS="200",
    )
    installed = Install(home, dags, tmp_path / "journal.txt", url, env)
    try:
        yield installed
    finally:
        for process in installed.processes:
            if process.poll() is None:
                kill_tree(process)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs at tmp_path/small (unmounted afterwards); skipped where it cannot be mounted."""
    with mounted_tmpfs(tmp_path / "small", "4m") as mount_point:
        yield mount_point
