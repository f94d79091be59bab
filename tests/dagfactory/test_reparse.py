"""dag-factory folders through the real DAG processor: the YAML files (and the folders a folder
scan lists) are part of the loader file's inputs, so an unchanged folder is not re-read and a
changed YAML re-imports only its loader; mistakes are import errors on the YAML file, a broken
DAG keeps its last good version, and ``dags list-import-errors`` shows them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tradewind.processor import DagProcessor
from tradewind.scheduler.persistence import StoreGateway
from tradewind.store import dag_versions as dv
from tradewind.store import queries as q
from tradewind.store.engine import session_scope

pytestmark = pytest.mark.slow  # every test starts processor children

LOADER = "from dagfactory import load_yaml_dags\nload_yaml_dags(globals_dict=globals(), dags_folder=CONFIGS)\n"
PLAIN_DAG = """
from datetime import datetime
from tradewind import DAG, EmptyOperator
with DAG("plain", start_date=datetime(2025, 1, 1), schedule=None):
    EmptyOperator(task_id="t")
"""


def chain(dag_id: str, tasks: list[str], bad_dependency: str | None = None) -> str:
    lines = [f"{dag_id}:", "  tasks:"]
    for index, name in enumerate(tasks):
        deps = [tasks[index - 1]] if index else []
        if bad_dependency and index == len(tasks) - 1:
            deps.append(bad_dependency)
        lines += [f"    {name}:", "      operator: airflow.operators.empty.EmptyOperator"]
        if deps:
            lines.append(f"      dependencies: {json.dumps(deps)}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def dags(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    (folder / "configs").mkdir(parents=True)
    (folder / "loader.py").write_text(f"CONFIGS = {str(folder / 'configs')!r}\n" + LOADER)
    (folder / "plain.py").write_text(PLAIN_DAG)
    (folder / "configs" / "a.yml").write_text(chain("alpha", ["x", "y"]) + chain("beta", ["x", "y"]))
    (folder / "configs" / "b.yml").write_text(chain("gamma", ["only"]))
    return folder


def errors(engine: Engine) -> list[tuple[str, str]]:
    with session_scope(engine) as session:
        return [(Path(e.filename).name, e.error) for e in q.list_import_errors(session)]


def active(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return sorted(row.dag_id for row in dv.active_dags(session))


def test_an_unchanged_folder_is_not_read_again_and_a_changed_yaml_reimports_only_its_loader(
    engine: Engine, dags: Path
) -> None:
    processor = DagProcessor(dags, engine)
    processor.run_once()
    assert processor.imports == 2  # loader.py and plain.py
    assert active(engine) == ["alpha", "beta", "gamma", "plain"]
    with session_scope(engine) as session:
        tracked = [entry[0] for entry in dv.stored_files(session)[str(dags / "loader.py")].fingerprint]
    configs = dags / "configs"
    # the YAML files it read (seen by the audit hook), the folder it scanned and the folders it
    # looked in for defaults.yml (here the DAGs folder)
    assert tracked == [
        str(dags / "loader.py"),
        str(dags),
        str(configs),
        str(configs / "a.yml"),
        str(configs / "b.yml"),
    ]

    processor.run_once()
    os.utime(configs / "b.yml")  # touched, not changed
    processor.run_once()
    assert processor.imports == 2

    (configs / "b.yml").write_text(chain("gamma", ["only", "more"]))
    report = processor.run_once()
    assert processor.imports == 3 and report.imported == 1  # the loader only; plain.py untouched
    assert report.new_versions == 1  # gamma; alpha and beta did not change
    gateway = StoreGateway(engine)
    assert sorted(gateway.get_dag("gamma").task_dict) == ["more", "only"]

    # folder-scan mode: a new YAML file in the scanned folder is found
    (configs / "c.yml").write_text(chain("delta", ["t"]))
    processor.run_once()
    assert processor.imports == 4
    assert active(engine) == ["alpha", "beta", "delta", "gamma", "plain"]

    # a second processor (another command) reads nothing: the inputs are tracked in the store
    fresh = DagProcessor(dags, engine)
    fresh.run_once()
    assert fresh.imports == 0


def test_a_broken_dag_is_an_error_on_its_yaml_keeps_its_last_version_and_is_cleared_when_fixed(
    engine: Engine, dags: Path
) -> None:
    processor = DagProcessor(dags, engine)
    processor.run_once()
    gateway = StoreGateway(engine)
    assert sorted(gateway.get_dag("beta").task_dict) == ["x", "y"]

    a = dags / "configs" / "a.yml"
    a.write_text(chain("alpha", ["x", "y", "z"]) + chain("beta", ["x", "y", "z"], bad_dependency="ghost"))
    processor.run_once()
    assert errors(engine) == [
        (
            "a.yml",
            "DagFactoryConfigError: `tasks.z.dependencies`: no task named `ghost` in DAG `beta` (line 20); "
            "tasks are: x, y, z",
        )
    ]
    assert active(engine) == ["alpha", "beta", "gamma", "plain"]
    assert sorted(gateway.get_dag("alpha").task_dict) == ["x", "y", "z"]  # its neighbour moved on
    assert sorted(gateway.get_dag("beta").task_dict) == ["x", "y"]  # the last good version, still scheduled

    a.write_text(chain("alpha", ["x", "y", "z"]) + chain("beta", ["x", "y", "z"]))
    processor.run_once()
    assert errors(engine) == []
    assert sorted(gateway.get_dag("beta").task_dict) == ["x", "y", "z"]

    # a YAML file that is not YAML: one error on it, the other file's DAGs stay
    a.write_text("alpha: [unclosed\n")
    processor.run_once()
    [(name, error)] = errors(engine)  # libyaml's wording: "did not find expected ',' or ']'"
    assert (
        name == "a.yml" and error.startswith("DagFactoryConfigError: not valid YAML: ") and error.endswith("(line 2)")
    )
    assert "gamma" in active(engine)

    # the loader deleted: its DAGs become inactive and its errors on the YAML go with it
    (dags / "loader.py").unlink()
    processor.run_once()
    assert errors(engine) == [] and active(engine) == ["plain"]


def test_list_import_errors_shows_the_yaml_error_with_its_line(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "loader.py").write_text("from dagfactory import load_yaml_dags\nload_yaml_dags(globals_dict=globals())\n")
    (folder / "orders.yml").write_text(chain("orders", ["extract", "load"], bad_dependency="ghost_task"))
    (folder / "other.yml").write_text(chain("billing", ["run"]))
    listed = run_cli("dags", "list-import-errors", "--dags-folder", folder, "--output", "json")
    assert listed.returncode == 1, listed.stderr
    assert json.loads(listed.stdout) == [
        {
            "filename": str(folder / "orders.yml"),
            "error": "DagFactoryConfigError: `tasks.load.dependencies`: no task named `ghost_task` in DAG `orders` "
            "(line 7); tasks are: extract, load",
        }
    ]
    shown = run_cli("dags", "list", "--dags-folder", folder, "--output", "json")
    assert [row["dag_id"] for row in json.loads(shown.stdout)] == ["billing"]
    ran = run_cli("dags", "test", "billing", "--dags-folder", folder)
    assert ran.returncode == 0, ran.stderr
