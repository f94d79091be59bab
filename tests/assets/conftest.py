"""The ``home`` fixture: a store holding the producer and consumer DAGs of asset_home.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from asset_home import CONSUMERS, PRODUCERS, Home


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    home = Home(tmp_path)
    home.store("producers.py", PRODUCERS)
    home.store("consumers.py", CONSUMERS)
    return home
