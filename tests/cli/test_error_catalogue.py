"""Every CLI error is one line and a non-zero exit code, never a traceback (issue 8, item 6).

A table of bad arguments, each run in this process with click's CliRunner against a fresh
TRADEWIND_HOME and a DAGs folder with one small DAG (stored once by ``dag-processor --once``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradewind.cli.main import main

DAG_SOURCE = """
from datetime import datetime

from tradewind import dag, task


@dag(start_date=datetime(2025, 7, 1), schedule="@daily", catchup=False)
def catalogue():
    @task
    def one(x: int) -> int:
        return x

    one.expand(x=[1, 2])


catalogue()
"""


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("catalogue")
    home, folder = root / "home", root / "home" / "dags"
    folder.mkdir(parents=True)
    (folder / "catalogue.py").write_text(textwrap.dedent(DAG_SOURCE).lstrip(), encoding="utf-8")
    env = {"TRADEWIND_HOME": str(home), "TRADEWIND__CORE__DAGS_FOLDER": str(folder), "TRADEWIND_DEBUG": ""}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        result = CliRunner().invoke(main, ["dag-processor", "--once"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        result = CliRunner().invoke(
            main, ["dags", "trigger", "catalogue", "--run-id", "r1", "-l", "2025-07-01"], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        yield env


LONG = "r" * 300
CATALOGUE: list[tuple[list[str], int, str]] = [
    # regular expressions
    (["tasks", "clear", "catalogue", "--task-regex", "([", "-y"], 2, "'([' is not a valid regular expression"),
    # counts
    (["scheduler", "--parallelism", "0"], 2, "Invalid value for '--parallelism'"),
    (["scheduler", "--parallelism", "-1"], 2, "Invalid value for '--parallelism'"),
    (["standalone", "--parallelism", "0"], 2, "Invalid value for '--parallelism'"),
    (
        ["dags", "backfill", "catalogue", "-s", "2025-07-01", "-e", "2025-07-02", "--parallelism", "0"],
        2,
        "--parallelism",
    ),
    (["tasks", "states-for-dag-run", "catalogue", "r1", "--limit", "-1"], 2, "Invalid value for '--limit'"),
    (["tasks", "states-for-dag-run", "catalogue", "r1", "--offset", "-5"], 2, "Invalid value for '--offset'"),
    (["pools", "set", "gpu", "--", "-1"], 1, "pool 'gpu' needs 0 or more slots, got -1"),
    (["pools", "set", "gpu", "many"], 2, "Invalid value for 'SLOTS'"),
    (["tasks", "clear", "catalogue", "--map-index", "-2", "-y"], 2, "Invalid value for '--map-index'"),
    (["tasks", "test", "catalogue", "one", "--map-index", "99"], 1, "pass --map-index between 0 and 1"),
    # unknown ids
    (["dags", "trigger", "nope"], 1, "nope"),
    (["dags", "pause", "nope"], 1, "nope"),
    (["dags", "unpause", "nope"], 1, "nope"),
    (["dags", "list-runs", "nope"], 1, "DAG 'nope' not found"),
    (["dags", "show", "nope"], 1, "nope"),
    (["dags", "test", "nope"], 1, "nope"),
    (["dags", "backfill", "nope", "-s", "2025-07-01", "-e", "2025-07-02"], 1, "nope"),
    (["tasks", "list", "nope"], 1, "nope"),
    (["tasks", "test", "nope", "one"], 1, "nope"),
    (["tasks", "test", "catalogue", "nope"], 1, "nope"),
    (["tasks", "states-for-dag-run", "nope", "r1"], 1, "nope"),
    (["tasks", "clear", "nope", "-y"], 1, "nope"),
    (["tasks", "states-for-dag-run", "catalogue", "no_such_run"], 1, "no_such_run"),
    (["tasks", "clear", "catalogue", "--run-id", "no_such_run", "-y"], 1, "no_such_run"),
    # ids with control characters, and too long
    (["dags", "trigger", "catalogue", "--run-id", "bad\nid"], 2, "Invalid value for '--run-id'"),
    (["dags", "trigger", "catalogue", "--run-id", "bad\x1b[31mid"], 2, "control character"),
    (["dags", "trigger", "catalogue", "--run-id", LONG], 2, "at most 250 characters"),
    (["dags", "trigger", "catalogue", "--run-id", ""], 2, "Invalid value for '--run-id'"),
    (["dags", "trigger", "cata\nlogue"], 2, "Invalid value for 'DAG_ID'"),
    (["dags", "pause", "cata\x1blogue"], 2, "control character"),
    (["tasks", "states-for-dag-run", "catalogue", "r\n1"], 2, "Invalid value for 'RUN_ID'"),
    (["tasks", "states-for-dag-run", "catalogue", "r1", "--task-id", "o\tne"], 2, "--task-id"),
    (["tasks", "test", "catalogue", "o\rne"], 2, "Invalid value for 'TASK_ID'"),
    (["tasks", "clear", "catalogue", "--run-id", "r\n1", "-y"], 2, "Invalid value for '--run-id'"),
    (["pools", "set", "g\npu", "1"], 2, "Invalid value for 'NAME'"),
    # dates
    (["dags", "trigger", "catalogue", "--logical-date", "07/01/2025"], 1, "logical date '07/01/2025'"),
    (["dags", "test", "catalogue", "yesterday"], 1, "logical date 'yesterday'"),
    (["tasks", "test", "catalogue", "one", "2025-13-01"], 1, "logical date '2025-13-01'"),
    (["dags", "backfill", "catalogue", "-s", "July", "-e", "2025-07-02"], 1, "--start-date 'July'"),
    (["dags", "backfill", "catalogue", "-s", "2025-07-01", "-e", "soon"], 1, "--end-date 'soon'"),
    (["dags", "backfill", "catalogue", "-s", "2025-07-05", "-e", "2025-07-01"], 1, "--end-date is before"),
    # conf
    (["dags", "trigger", "catalogue", "--conf", "{nope"], 1, "--conf is not valid JSON"),
    (["dags", "trigger", "catalogue", "--conf", "[1, 2]"], 1, "--conf must be a JSON object"),
    (["dags", "test", "catalogue", "--conf", "3"], 1, "--conf must be a JSON object"),
]


def _id(case: tuple[list[str], int, str]) -> str:
    return " ".join(case[0]).encode("unicode_escape").decode()[:60]


@pytest.mark.parametrize(("args", "code", "message"), CATALOGUE, ids=[_id(c) for c in CATALOGUE])
def test_bad_arguments_give_one_line_and_an_exit_code(
    installation: dict[str, str], monkeypatch: pytest.MonkeyPatch, args: list[str], code: int, message: str
) -> None:
    for key, value in installation.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, args)
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in output
    assert result.exit_code == code, output
    assert message in output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    # the error is the last thing printed and is one line (click's usage errors put a usage hint above it)
    assert output.rstrip("\n").splitlines()[-1] == errors[0]


def test_an_unexpected_exception_is_one_line_unless_debugging(
    installation: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tradewind.cli.pools

    def broken() -> None:
        raise RuntimeError("disk on fire\nsecond line")

    for key, value in installation.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(tradewind.cli.pools, "_engine", broken)
    result = CliRunner().invoke(main, ["pools", "list"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: RuntimeError: disk on fire second line (rerun with TRADEWIND_DEBUG=1 to see the traceback)\n"
    )
    monkeypatch.setenv("TRADEWIND_DEBUG", "1")
    result = CliRunner().invoke(main, ["pools", "list"])
    assert isinstance(result.exception, RuntimeError)


def test_usage_errors_keep_exit_code_2(installation: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in installation.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["dags", "trigger"])
    assert result.exit_code == 2
    assert "Missing argument 'DAG_ID'" in result.output


@pytest.mark.parametrize("run_id", ["bad\nid", "bad\x1bid", "tab\there", "del\x7f"])
def test_the_store_refuses_a_run_id_with_a_control_character(
    installation: dict[str, str], monkeypatch: pytest.MonkeyPatch, run_id: str
) -> None:
    from datetime import UTC, datetime

    from tradewind.errors import TradewindError
    from tradewind.store import queries as q
    from tradewind.store.engine import make_engine, session_scope

    for key, value in installation.items():
        monkeypatch.setenv(key, value)
    engine = make_engine()
    try:
        with pytest.raises(TradewindError, match="control character"), session_scope(engine) as session:
            q.create_dag_run(
                session,
                dag_id="catalogue",
                run_id=run_id,
                logical_date=datetime(2025, 7, 2, tzinfo=UTC),
                data_interval_start=None,
                data_interval_end=None,
                run_type="manual",
            )
    finally:
        engine.dispose()


def test_a_dag_id_with_a_newline_in_a_dag_file_is_an_import_error(tmp_path: Path) -> None:
    from tradewind.loader import load_dags

    (tmp_path / "bad.py").write_text(
        "from datetime import datetime\n\nfrom tradewind import DAG\n\n"
        'DAG("bad\\nid", start_date=datetime(2025, 7, 1))\n',
        encoding="utf-8",
    )
    bag = load_dags(tmp_path, timeout=30.0)
    assert not bag.dags
    [error] = bag.import_errors.values()
    assert "is invalid: use only letters, digits, underscores, dots and dashes" in str(error)
