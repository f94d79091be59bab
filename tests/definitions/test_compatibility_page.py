"""docs/airflow-compatibility.md stays true: each import of a supported row works through the
``airflow`` alias, each import of a not-supported row fails naming the symbol and the page, and
each argument of the warning table is one tradewind warns about."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tradewind.definitions import compat_warnings
from tradewind.loader import airflow_compat

PAGE = Path(__file__).parents[2] / "docs" / "airflow-compatibility.md"


def _rows(section: str) -> list[list[str]]:
    text = PAGE.read_text(encoding="utf-8").split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip().strip("|").split(" | ") for line in text.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row] for row in rows[1:] if not set(row[0]) <= {"-", " "}]


def _imports(cell: str) -> list[str]:
    return [code for code in re.findall(r"`([^`]+)`", cell) if code.startswith(("from airflow", "import airflow"))]


IMPORT_ROWS = [(row[0], line, row[2]) for row in _rows("Imports and features") for line in _imports(row[1])]


def test_the_page_lists_imports_of_each_status() -> None:
    assert {status for _, _, status in IMPORT_ROWS} == {"supported", "differently", "not supported"}
    assert len(IMPORT_ROWS) > 60


@pytest.mark.parametrize(("feature", "line", "status"), IMPORT_ROWS, ids=[line for _, line, _ in IMPORT_ROWS])
def test_each_import_on_the_page_behaves_as_the_page_says(feature: str, line: str, status: str) -> None:
    assert airflow_compat.install()
    if status in ("supported", "differently"):
        exec(line, {})
        return
    with pytest.raises(ImportError) as raised:
        exec(line, {})
    assert "docs/airflow-compatibility.md" in str(raised.value)


def test_every_warned_argument_is_on_the_page() -> None:
    listed = {
        name for row in _rows("Arguments accepted with an import warning") for name in re.findall(r"`(\w+)", row[0])
    }
    assert set(compat_warnings.TASK_ARGUMENTS) | set(compat_warnings.DAG_ARGUMENTS) <= listed
