"""Fixtures shared by tests in several folders (a folder's own conftest.py or a test module may
define a fixture of the same name for its own needs; that one wins there)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tradewind.store.engine import make_engine, migrate


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A migrated SQLite store in a fresh TRADEWIND_HOME (``tmp_path/home``)."""
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    engine = make_engine()
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()
