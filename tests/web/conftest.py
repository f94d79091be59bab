"""Fixtures for the UI tests (helpers in webkit.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from webkit import Site


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    built = Site(tmp_path)
    built.add_user("ada", "op")
    built.add_user("vic", "viewer")
    yield built
    built.engine.dispose()
