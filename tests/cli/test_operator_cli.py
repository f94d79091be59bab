"""The operator's CLI, as a user reads it: a task's log by try and map index (the internal
result line hidden, followed while it runs), failure summaries, unknown ids that are errors with
a did-you-mean, tables that never cut an id, the pause column of `dags list`, `tradewind info`.

Most tests share one real run: `dags trigger` and `scheduler --exit-when-idle` run in this
process (their task workers are real processes writing real logs) on a SQLite file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from tradewind.cli.main import main
from tradewind.definitions.instance_key import TaskInstanceKey
from tradewind.definitions.states import TaskInstanceState
from tradewind.runtime.durable import MARKER, result_line
from tradewind.runtime.logs import log_relative_path
from tradewind.runtime.work import TaskResult
from tradewind.store import queries as q
from tradewind.store.engine import make_engine, migrate, session_scope

RUN_ID = "manual__2025-01-01T00:00:00+00:00__operator_cli_with_a_long_run_id"
DAG = """
from datetime import datetime, timedelta
from airflow.decorators import dag, task

@dag(schedule=None, start_date=datetime(2025, 1, 1))
def ops_example():
    @task(map_index_template="item {{ task.op_kwargs['n'] }}", retries=1, retry_delay=timedelta(seconds=0))
    def work(n):
        print(f"working on {n}")
        if n == "bad":
            raise ValueError(f"cannot work on {n}\\nsecond line of the error")
        return n

    @task
    def total(items):
        return len(list(items))

    total(work.expand(n=["a", "bad", "c"]))

ops_example()
"""


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env={"COLUMNS": "250", **(env or {})}).invoke(main, list(args))


@pytest.fixture(scope="module")
def ran_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a home whose store holds one finished, failed run of ``ops_example``:
    work[1] failed on both its tries, work[0] and work[2] succeeded, total is upstream_failed."""
    root = tmp_path_factory.mktemp("operator")
    (root / "dags").mkdir()
    (root / "dags" / "ops.py").write_text(textwrap.dedent(DAG).lstrip(), encoding="utf-8")
    env = {
        "TRADEWIND_HOME": str(root / "home"),
        "TRADEWIND__CORE__DAGS_FOLDER": str(root / "dags"),
        "TRADEWIND__CORE__PARALLELISM": "2",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        triggered = cli("dags", "trigger", "ops_example", "--run-id", RUN_ID, "--logical-date", "2025-01-01")
        assert triggered.exit_code == 0, triggered.output
        scheduled = cli("scheduler", "--exit-when-idle")
        assert scheduled.exit_code == 0, scheduled.output
    return env


@pytest.fixture
def ran(ran_home: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in ran_home.items():
        monkeypatch.setenv(name, value)
    return Path(ran_home["TRADEWIND_HOME"])


# -- tasks logs


def test_a_log_is_printed_without_the_internal_result_line(ran: Path) -> None:
    shown = cli("tasks", "logs", "ops_example", RUN_ID, "work", "--map-index", "0")
    assert shown.exit_code == 0, shown.output
    assert "{work[0]} INFO - working on a" in shown.stdout
    assert "Returned value was: 'a'" in shown.stdout
    assert MARKER.strip() not in shown.output
    assert shown.stdout.endswith("\n")


def test_the_latest_try_is_shown_unless_a_try_is_asked_for(ran: Path) -> None:
    latest = cli("tasks", "logs", "ops_example", RUN_ID, "work", "--map-index", "1")
    first = cli("tasks", "logs", "ops_example", RUN_ID, "work", "--map-index", "1", "--try", "1")
    assert latest.exit_code == first.exit_code == 0
    assert ", try 2" in latest.stdout and ", try 1" not in latest.stdout
    assert ", try 1" in first.stdout and ", try 2" not in first.stdout
    assert "ValueError: cannot work on bad" in latest.stdout
    missing = cli("tasks", "logs", "ops_example", RUN_ID, "work", "--map-index", "1", "--try", "3")
    assert missing.exit_code == 1
    assert "No log for try 3 of work[1]" in missing.stderr
    assert "logs exist for tries 1, 2" in missing.stderr


def test_following_a_finished_try_prints_it_and_ends(ran: Path) -> None:
    started = time.monotonic()
    shown = cli("tasks", "logs", "ops_example", RUN_ID, "work", "--map-index", "2", "--follow")
    assert shown.exit_code == 0, shown.output
    assert "working on c" in shown.stdout and MARKER.strip() not in shown.stdout
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ops_exampel", RUN_ID, "work"], "DAG 'ops_exampel' not found. Did you mean 'ops_example'?"),
        (
            ["ops_example", RUN_ID[:-1], "work"],
            f"DAG 'ops_example' has no run with run_id '{RUN_ID[:-1]}'. Did you mean '{RUN_ID}'?",
        ),
        (["ops_example", RUN_ID, "wrok"], "DAG 'ops_example' has no task 'wrok'. Did you mean 'work'?"),
        (["ops_example", RUN_ID, "work"], "is mapped (map indexes 0..2): pass --map-index N"),
        (["ops_example", RUN_ID, "work", "--map-index", "3"], "there is no map index 3"),
        (["ops_example", RUN_ID, "total", "--map-index", "0"], "is not mapped: leave out --map-index"),
        (["ops_example", RUN_ID, "total"], "has not run (state: upstream_failed): it has no log yet"),
    ],
)
def test_what_cannot_be_shown_is_an_error_that_says_why(ran: Path, args: list[str], message: str) -> None:
    shown = cli("tasks", "logs", *args)
    assert shown.exit_code == 1
    assert message in shown.stderr
    assert shown.stdout == ""


def one_instance(state: str | None, try_number: int) -> Engine:
    """A store (in TRADEWIND_HOME) with DAG ``slow``, its run ``r`` and the instance ``t``, as
    the scheduler would have written them."""
    engine = make_engine()
    migrate(engine)
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        q.upsert_dag(session, dag_id="slow", fileloc="/dags/slow.py", schedule=None)
        q.create_dag_run(
            session,
            dag_id="slow",
            run_id="r",
            logical_date=moment,
            data_interval_start=moment,
            data_interval_end=moment,
            run_type="manual",
        )
        row = {"dag_id": "slow", "run_id": "r", "task_id": "t", "state": state, "try_number": try_number}
        q.upsert_task_instances(session, [row])
    return engine


def test_a_log_longer_than_one_read_is_printed_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path))
    one_instance("success", 1)
    key = TaskInstanceKey("slow", "r", "t", -1, 1)
    path = tmp_path / "logs" / log_relative_path(key)
    path.parent.mkdir(parents=True)
    text = "".join(f"[2025-01-01T00:00:00.000Z] {{t}} INFO - line {i} " + "x" * 100 + "\n" for i in range(30_000))
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    done = TaskResult(key=key, state=TaskInstanceState.SUCCESS, started_at=moment, ended_at=moment)
    path.write_text(text + result_line(done), encoding="utf-8")
    assert len(text) > 3 * 2**20
    shown = cli("tasks", "logs", "slow", "r", "t")
    assert shown.exit_code == 0
    assert shown.stdout == text


@pytest.mark.parametrize("started", [True, False])
def test_a_follower_sees_a_running_try_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: bool
) -> None:
    """The try runs while `tasks logs --follow` reads: lines arrive in pieces, then the worker
    writes the result line and the scheduler records the end. A follower that comes before the
    try started waits for it."""
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path))
    engine = one_instance("running" if started else None, int(started))
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    key = TaskInstanceKey("slow", "r", "t", -1, 1)
    path = tmp_path / "logs" / log_relative_path(key)
    path.parent.mkdir(parents=True)
    lines = [f"[2025-01-01T00:00:0{i}.000Z] {{t}} INFO - step {i}\n" for i in range(4)]
    done = TaskResult(key=key, state=TaskInstanceState.SUCCESS, started_at=moment, ended_at=moment)

    def run_the_try() -> None:
        if not started:
            time.sleep(0.8)
            with session_scope(engine) as session:
                q.upsert_task_instances(
                    session, [{"dag_id": "slow", "run_id": "r", "task_id": "t", "state": "running", "try_number": 1}]
                )
        with path.open("w", encoding="utf-8") as log:
            for line in lines:
                for piece in (line[:15], line[15:]):  # the worker's buffer reaches the disk mid-line
                    log.write(piece)
                    log.flush()
                    time.sleep(0.15)
            log.write(result_line(done))
        with session_scope(engine) as session:
            q.upsert_task_instances(
                session, [{"dag_id": "slow", "run_id": "r", "task_id": "t", "state": "success", "try_number": 1}]
            )

    worker = threading.Thread(target=run_the_try)
    worker.start()
    shown = cli("tasks", "logs", "slow", "r", "t", "--follow")
    worker.join()
    assert shown.exit_code == 0, shown.output
    assert shown.stdout == "".join(lines)


# -- failure summaries, unknown ids, tables


def test_states_for_dag_run_shows_the_failed_instance_with_the_first_line_of_its_error(ran: Path) -> None:
    shown = cli("tasks", "states-for-dag-run", "ops_example", RUN_ID, "--state", "failed", "-o", "plain")
    assert shown.exit_code == 0, shown.output
    rows = shown.stdout.splitlines()
    assert len(rows) == 3  # header, rule, the one failed instance
    assert re.match(r"work\s+1\s+failed\s+2\s+.*\s+item bad\s+cannot work on bad$", rows[2])
    assert "second line" not in shown.stdout
    full = json.loads(
        cli("tasks", "states-for-dag-run", "ops_example", RUN_ID, "--state", "failed", "-o", "json").stdout
    )
    assert full[0]["error"] == "cannot work on bad\nsecond line of the error"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dags", "list-runs", "ops_exmple"], "Error: DAG 'ops_exmple' not found. Did you mean 'ops_example'?"),
        (["dags", "list-runs", "nope"], "Error: DAG 'nope' not found (see `tradewind dags list`"),
        (["tasks", "states-for-dag-run", "ops_example", "bogus"], "has no run with run_id 'bogus' (see `tradewind"),
        (["tasks", "states-for-dag-run", "ops_example", RUN_ID + "x"], f"Did you mean '{RUN_ID}'?"),
        (["tasks", "states-for-dag-run", "nope", RUN_ID], "Error: DAG 'nope' not found"),
        (["dags", "trigger", "ops_exampl"], "Error: DAG 'ops_exampl' not found. Did you mean 'ops_example'?"),
        (["dags", "pause", "op_example"], "Error: DAG 'op_example' not found. Did you mean 'ops_example'?"),
        (["tasks", "clear", "ops_example", "--run-id", RUN_ID[:-1], "-y"], f"Did you mean '{RUN_ID}'?"),
    ],
)
def test_an_unknown_id_is_an_error_not_an_empty_result(ran: Path, args: list[str], message: str) -> None:
    shown = cli(*args)
    assert shown.exit_code == 1
    assert message in shown.stderr
    assert "No runs." not in shown.output


@pytest.mark.parametrize("columns", ["100", "250"])
def test_tables_wrap_an_id_but_never_cut_it(ran: Path, columns: str) -> None:
    shown = cli("dags", "list-runs", "ops_example", env={"COLUMNS": columns})
    assert shown.exit_code == 0, shown.output
    assert "…" not in shown.stdout
    first_column = "".join(line.split("│")[1].strip() for line in shown.stdout.splitlines() if line.startswith("│"))
    assert first_column == RUN_ID
    if columns == "250":
        assert f"│ {RUN_ID} │" in shown.stdout  # room enough: the id stays on one line


def test_plain_output_keeps_every_row_on_one_line(ran: Path) -> None:
    shown = cli("dags", "list-runs", "ops_example", "-o", "plain", env={"COLUMNS": "60"})
    assert shown.exit_code == 0, shown.output
    header, _, row = shown.stdout.splitlines()
    assert header.split() == [
        "run_id",
        "state",
        "run_type",
        "run_after",
        "logical_date",
        "start_date",
        "end_date",
        "dag_version",
    ]
    cells = row.split()  # run_after (the trigger time), then the logical date: a date and a time each
    assert cells[:3] == [RUN_ID, "failed", "manual"] and cells[5:7] == ["2025-01-01", "00:00:00"]


def test_dags_list_shows_which_dags_are_paused(ran: Path) -> None:
    assert cli("dags", "pause", "ops_example").exit_code == 0
    try:
        table = cli("dags", "list")
        rows = json.loads(cli("dags", "list", "-o", "json").stdout)
    finally:
        assert cli("dags", "unpause", "ops_example").exit_code == 0
    assert re.search(r"│ ops_example\s+│ ops\.py\s+│ None\s+│ NullTimetable\s+│\s+│ True\s+│", table.stdout), (
        table.stdout
    )
    assert [(r["dag_id"], r["is_paused"]) for r in rows] == [("ops_example", True)]


def test_dags_test_ends_with_what_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    (tmp_path / "ops.py").write_text(textwrap.dedent(DAG).lstrip(), encoding="utf-8")
    shown = cli("dags", "test", "ops_example", "--dags-folder", str(tmp_path), "--no-retry-delay")
    assert shown.exit_code == 1
    summary = shown.stdout[shown.stdout.index("task instance(s) failed") - 2 :].splitlines()
    assert summary == [
        "1 task instance(s) failed:",
        "  work[1]  (item bad)  ValueError: cannot work on bad",  # a failed instance has its label too
        summary[2],
    ]
    assert summary[2].startswith("DAG run manual__") and summary[2].endswith("of ops_example: failed")
    rows = json.loads(
        cli("dags", "test", "ops_example", "--dags-folder", str(tmp_path), "--no-retry-delay", "-o", "json").stdout
    )["task_instances"]
    assert [r["error"] for r in rows if r["state"] == "failed"] == [
        "ValueError: cannot work on bad\nsecond line of the error"
    ]


def test_a_summary_names_twenty_failures_and_counts_the_rest(capsys: pytest.CaptureFixture[str]) -> None:
    from tradewind.cli.output import print_failures

    rows = [{"task_id": "t", "map_index": i, "label": f"file {i}.csv", "error": f"bad {i}\nmore"} for i in range(25)]
    print_failures(rows, "see all with X")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "25 task instance(s) failed:"
    assert out[1] == "  t[0]  (file 0.csv)  bad 0"
    assert len(out) == 22
    assert out[-1] == "  ... and 5 more: see all with X"


# -- tradewind info


def test_info_says_where_everything_is_and_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"TRADEWIND_HOME": str(home), "TRADEWIND__CORE__PARALLELISM": "3"}
    shown = cli("info", env=env)
    assert shown.exit_code == 0, shown.output
    lines = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in shown.stdout.splitlines())
    assert lines["home"] == f"{home}  (from TRADEWIND_HOME)"
    assert lines["config file"] == f"{home / 'tradewind.toml'}  (not found: defaults in use)"
    assert lines["database"].startswith(f"sqlite:///{home / 'tradewind.db'}: not created yet")
    assert lines["executor"] == "local, 3 worker process(es)"
    assert lines["DAGs folder"] == f"{home / 'dags'}  (does not exist)"
    assert lines["overrides"] == "TRADEWIND__CORE__PARALLELISM"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", lines["tradewind"])
    assert not home.exists()

    home.mkdir()
    (home / "tradewind.toml").write_text(f'[core]\ndags_folder = "{tmp_path}"\n')
    assert cli("db", "migrate", env=env).exit_code == 0
    found = json.loads(cli("info", "-o", "json", env=env).stdout)
    assert found["config_file_exists"] is True
    assert found["dags_folder"] == str(tmp_path) and found["dags_folder_exists"] is True
    assert found["database"]["revision"] == found["database"]["head"]
    assert found["database"]["status"] == f"schema up to date (revision {found['database']['head']})"


# -- through the console script, with a real scheduler


@pytest.mark.slow
def test_follow_a_task_while_the_scheduler_runs_it(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "slow.py").write_text(
        textwrap.dedent(
            """
            import time
            from datetime import datetime
            from airflow.decorators import dag, task

            @dag(schedule=None, start_date=datetime(2025, 1, 1))
            def slow_steps():
                @task
                def steps():
                    for i in range(6):
                        print(f"step {i}", flush=True)
                        time.sleep(0.4)
                    return "done"
                steps()

            slow_steps()
            """
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env |= {"TRADEWIND_HOME": str(tmp_path / "home"), "TRADEWIND__CORE__DAGS_FOLDER": str(dags)}
    tradewind = str(Path(sys.executable).with_name("tradewind"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([tradewind, *args], env=env, capture_output=True, text=True, timeout=60, check=False)

    assert run("dags", "trigger", "slow_steps", "--run-id", "r1").returncode == 0
    follower = subprocess.Popen(  # before the run starts: it waits for the try, then follows it
        [tradewind, "tasks", "logs", "slow_steps", "r1", "steps", "--follow"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1)
    assert follower.poll() is None
    scheduler = subprocess.Popen([tradewind, "scheduler", "--exit-when-idle"], env=env, stderr=subprocess.DEVNULL)
    try:
        out, err = follower.communicate(timeout=60)
        followed = subprocess.CompletedProcess(follower.args, follower.returncode, out, err)
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.communicate()
        scheduler.wait(timeout=60)
    states = json.loads(run("tasks", "states-for-dag-run", "slow_steps", "r1", "-o", "json").stdout)
    assert followed.returncode == 0, followed.stderr
    assert [line.split(" - ", 1)[1] for line in followed.stdout.splitlines() if "step " in line] == [
        f"step {i}" for i in range(6)
    ]
    assert "Returned value was: 'done'" in followed.stdout
    assert MARKER.strip() not in followed.stdout
    assert states[0]["state"] == "success"


@pytest.mark.slow
def test_backfill_ends_with_what_failed_in_each_run(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "daily.py").write_text(
        textwrap.dedent(
            """
            from datetime import datetime
            from airflow.decorators import dag, task

            @dag(schedule="@daily", start_date=datetime(2025, 1, 1), catchup=False)
            def daily_fail():
                @task(map_index_template="n={{ task.op_kwargs['n'] }}")
                def work(n):
                    if n == 2:
                        raise RuntimeError(f"bad {n}\\ndetails")
                    return n
                work.expand(n=[1, 2, 3])

            daily_fail()
            """
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env |= {"TRADEWIND_HOME": str(tmp_path / "home"), "TRADEWIND__CORE__DAGS_FOLDER": str(dags)}
    tradewind = str(Path(sys.executable).with_name("tradewind"))
    done = subprocess.run(
        [tradewind, "dags", "backfill", "daily_fail", "-s", "2025-01-01", "-e", "2025-01-02"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    tail = done.stdout[done.stdout.index("Run backfill__") :].splitlines()
    assert tail == [
        "Run backfill__2025-01-01T00:00:00+00:00: 1 task instance(s) failed:",
        "  work[1]  (n=2)  bad 2",
        "Run backfill__2025-01-02T00:00:00+00:00: 1 task instance(s) failed:",
        "  work[1]  (n=2)  bad 2",
        "Backfill of daily_fail: 0 succeeded, 2 failed",
    ]


def test_a_table_shows_values_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    """Brackets in an id or a label are text, not markup: nothing is dropped, nothing breaks."""
    from tradewind.cli.output import print_table

    print_table([{"task_id": "[bold]load", "label": "[/x] part [1, 2]"}], ["task_id", "label"])
    out = capsys.readouterr().out
    assert "│ [bold]load │ [/x] part [1, 2] │" in out


def test_a_label_that_cannot_render_after_a_failure_leaves_the_error_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    (tmp_path / "broken.py").write_text(
        textwrap.dedent(
            """
            from datetime import datetime
            from airflow.decorators import dag, task

            @dag(schedule=None, start_date=datetime(2025, 1, 1))
            def broken_label():
                @task(map_index_template="{{ no_such_name.attr }}")
                def work(n):
                    raise KeyError(n)
                work.expand(n=[1])

            broken_label()
            """
        ).lstrip(),
        encoding="utf-8",
    )
    shown = cli("dags", "test", "broken_label", "--dags-folder", str(tmp_path), "-o", "json")
    assert shown.exit_code == 1
    (row,) = json.loads(shown.stdout)["task_instances"]
    assert (row["state"], row["label"], row["error"]) == ("failed", None, "KeyError: 1")
