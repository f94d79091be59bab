"""Nothing in the current folder or a DAGs folder can shadow a library in the worker processes:
a ``jinja2.py`` where the scheduler is started, a ``json.py`` or ``colorsys.py`` beside the DAG
files. Helper modules beside the DAG files stay importable."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import jinja2
import pytest

from tradewind.definitions.states import TaskInstanceState as S
from tradewind.executors.local import LocalExecutor, worker_sys_path
from tradewind.loader import load_dags
from tradewind.scheduler.dag_test import drive, make_run_context
from tradewind.scheduler.run_state import RunState

TRADEWIND = str(Path(sys.executable).with_name("tradewind"))
STDLIB = os.path.dirname(os.__file__)
SITE_PACKAGES = os.path.dirname(os.path.dirname(jinja2.__file__))


def plant(folder: Path, *names: str) -> None:
    """Modules named like libraries that fail loudly if anything imports them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.py").write_text(f"raise RuntimeError('the planted {name}.py in {folder} was imported')\n")


DAG_FILE = """
    import os, sys
    from datetime import datetime
    from pathlib import Path
    from tradewind import DAG, BashOperator, task

    import dag_helper  # beside this file: still importable

    with DAG("isolated", start_date=datetime(2025, 1, 1), schedule=None):
        @task
        def check():
            import colorsys, json  # planted beside this file: the standard library's must win
            import jinja2  # planted in the current folder

            Path(os.environ["ISOLATION_REPORT"]).write_text(json.dumps(
                {"path": sys.path, "cwd": os.getcwd(), "modules": [m.__file__ for m in (colorsys, json, jinja2)]}
            ))
            return dag_helper.VALUE

        check() >> BashOperator(task_id="templated", bash_command="echo {{ ds }}")
"""


def write_dags(folder: Path) -> Path:
    plant(folder, "json", "colorsys")
    (folder / "dag_helper.py").write_text("VALUE = 'helped'\n")
    path = folder / "isolated.py"
    path.write_text(textwrap.dedent(DAG_FILE).lstrip())
    return path


def check_report(report: Path, dags: Path, cwd: Path) -> None:
    seen = json.loads(report.read_text())
    assert seen["cwd"] == str(cwd)
    colorsys, json_, jinja = (Path(module) for module in seen["modules"])
    assert colorsys.parent == Path(STDLIB) and json_.parent.parent == Path(STDLIB), seen["modules"]
    assert jinja.parent.parent == Path(SITE_PACKAGES), seen["modules"]
    path = seen["path"]
    assert "" not in path and str(cwd) not in path
    assert path.index(str(dags.resolve())) > max(path.index(STDLIB), path.index(SITE_PACKAGES))


def test_worker_path_puts_libraries_first_and_leaves_out_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", ["", str(tmp_path), str(dags), *sys.path])
    path = worker_sys_path()
    assert "" not in path and str(tmp_path) not in path
    assert path.index(str(dags)) > max(path.index(STDLIB), path.index(SITE_PACKAGES))


def test_modules_beside_the_dag_files_do_not_shadow_libraries_in_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dags = tmp_path / "dags"
    path = write_dags(dags)
    report = tmp_path / "report.json"
    monkeypatch.setenv("ISOLATION_REPORT", str(report))
    dag = load_dags(path).get_dag("isolated")  # puts the DAGs folder first on this process's path
    state = RunState(dag, make_run_context(dag, datetime(2025, 1, 1)))
    drive(state, LocalExecutor(parallelism=1, log_folder=tmp_path / "logs"), io.StringIO(), no_retry_delay=True)
    records = {r.task_id: r for r in state.records()}
    assert records["check"].state == S.SUCCESS, records["check"].error
    assert records["check"].return_value == "helped"
    assert records["templated"].state == S.SUCCESS, records["templated"].error
    check_report(report, dags, Path.cwd())


@pytest.mark.slow
def test_scheduler_started_beside_planted_modules_runs_tasks_with_the_real_libraries(tmp_path: Path) -> None:
    here = tmp_path / "here"  # where the user types `tradewind scheduler`
    plant(here, "jinja2", "pendulum", "click", "colorsys", "json", "signal", "runpy")
    dags = tmp_path / "dags"
    write_dags(dags)
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env.update(
        TRADEWIND_HOME=str(tmp_path / "home"), TRADEWIND__CORE__DAGS_FOLDER=str(dags), ISOLATION_REPORT=str(report)
    )

    def cli(*args: str, cwd: Path = tmp_path) -> str:
        done = subprocess.run([TRADEWIND, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"tradewind {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    run_id = json.loads(cli("dags", "trigger", "isolated", "-o", "json"))["run_id"]
    cli("scheduler", "--exit-when-idle", "--parallelism", "1", cwd=here)
    rows = json.loads(cli("tasks", "states-for-dag-run", "isolated", run_id, "-o", "json"))
    assert sorted((r["task_id"], r["state"]) for r in rows) == [("check", "success"), ("templated", "success")]
    check_report(report, dags, here)
