"""``run_cli``: the real ``tradewind`` console script in a clean TRADEWIND_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

TRADEWIND = Path(sys.executable).with_name("tradewind")


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    home = tmp_path / "tradewind_home"
    home.mkdir()

    def run(*args: Any) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
        env.update(TRADEWIND_HOME=str(home), COLUMNS="250")
        return subprocess.run(
            [str(TRADEWIND), *(str(a) for a in args)], capture_output=True, text=True, timeout=120, env=env, check=False
        )

    return run
