"""The one direction of imports (docs/DESIGN.md): a lower layer never imports a higher one,
and slow libraries stay out of the import-time path of the lower layers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "tradewind"

# layer -> the tradewind packages it may import (errors and config are shared by all)
ALLOWED = {
    "definitions": {"definitions"},
    "loader": {"definitions", "loader"},
    "runtime": {"definitions", "runtime"},
    "executors": {"definitions", "runtime", "loader", "executors"},
    "store": {"definitions", "store"},
    "processor": {"definitions", "loader", "store", "processor"},
    "scheduler": {"definitions", "runtime", "executors", "loader", "store", "processor", "scheduler"},
    # issue 12: users and tokens; the operations every front end shares; the API and the UI
    "auth": {"store", "auth"},
    "control": {"definitions", "store", "scheduler", "auth", "control"},
    "api": {"auth", "control", "store", "definitions", "runtime", "web", "api"},
    "web": {"auth", "control", "store", "definitions", "runtime", "web"},
}
SHARED = {"errors", "config", "timeouts", "processes", "serde"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_lower_layers(layer: str) -> None:
    violations = []
    for path in sorted((SRC / layer).rglob("*.py")):
        for line, module in _imports(path):
            parts = module.split(".")
            if parts[0] != "tradewind":
                continue
            target = parts[1] if len(parts) > 1 else ""
            if target and target not in ALLOWED[layer] | SHARED:
                violations.append(f"{path.relative_to(SRC)}:{line} imports {module}")
    assert violations == []


def test_importing_tradewind_loads_no_heavy_library() -> None:
    code = (
        "import sys, tradewind, tradewind.loader, tradewind.runtime.run_task;"
        "heavy = {'jinja2', 'croniter', 'sqlalchemy', 'pendulum', 'rich', 'fastapi',"
        "'uvicorn', 'argon2', 'jwt', 'multipart', 'starlette', 'pydantic', 'jsonschema'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
