"""Modules in the current directory never reach the DAG processor's children: a `signal.py`
or `json.py` where a command is started cannot break the import of DAG files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TRADEWIND = Path(sys.executable).with_name("tradewind")
EXAMPLE = Path(__file__).parents[2] / "examples" / "dags" / "mapped_example_dag.py"


def test_planted_modules_in_the_current_directory_are_not_imported(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(EXAMPLE, dags)
    here = tmp_path / "cwd"
    here.mkdir()
    for name in ("signal", "json", "runpy"):
        (here / f"{name}.py").write_text(f'raise RuntimeError("planted {name}.py was imported")\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env["TRADEWIND_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [str(TRADEWIND), "dags", "list", "--dags-folder", str(dags), "-o", "json"],
        cwd=here,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [row["dag_id"] for row in json.loads(done.stdout)] == ["mapped_example_dag"]
    assert "planted" not in done.stderr
