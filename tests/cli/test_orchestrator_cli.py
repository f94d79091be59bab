"""End to end: the commands around the persistent scheduler, as a user runs them.

``dags trigger / pause / unpause / list-runs / backfill``, ``tasks states-for-dag-run / clear``,
``scheduler --exit-when-idle`` and ``db migrate / reset``: each test runs the real console script
in subprocesses, with a fresh TRADEWIND_HOME (so a SQLite file on disk) and a DAGs folder that
holds only the DAG files the test writes. Tasks append to a journal file, so a test can count
how many times each task instance really ran.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tradewind.runtime.logs import path_component

TRADEWIND = str(Path(sys.executable).with_name("tradewind"))
RUN_FIELDS = {
    "dag_id",
    "run_id",
    "state",
    "run_type",
    "run_after",
    "logical_date",
    "start_date",
    "end_date",
    "dag_version",
}
TI_FIELDS = {"task_id", "map_index", "state", "try_number", "start_date", "end_date", "duration", "label", "error"}

pytestmark = pytest.mark.slow


@dataclass
class Env:
    """One isolated tradewind installation: its home, its DAGs folder, a journal and a marker file."""

    home: Path
    dags: Path
    journal: Path
    marker: Path
    vars: dict[str, str]

    def write_dag(self, name: str, source: str) -> Path:
        path = self.dags / name
        path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
        return path

    def run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        process = subprocess.Popen(
            [TRADEWIND, *args],
            env=self.vars,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,  # no TTY: a command that would ask must refuse instead
            start_new_session=True,  # its own process group: a hung command is stopped with its workers
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            hung = True
        else:
            hung = False
        if hung:
            pytest.fail(f"tradewind {' '.join(args)} did not return within {timeout:g}s:\n{stdout}\n{stderr}")
        done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        if check and done.returncode != 0:
            raise AssertionError(f"tradewind {' '.join(args)} failed ({done.returncode}):\n{describe(done)}")
        return done

    def json(self, *args: str) -> Any:
        done = self.run(*args, "-o", "json")
        try:
            return json.loads(done.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"tradewind {' '.join(args)} -o json did not print JSON:\n{describe(done)}")

    def trigger(self, dag_id: str, *args: str) -> str:
        return self.json("dags", "trigger", dag_id, *args)["run_id"]

    def schedule(self) -> subprocess.CompletedProcess[str]:
        return self.run("scheduler", "--exit-when-idle", "--parallelism", "2")

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.json("dags", "list-runs", dag_id)

    def run_states(self, dag_id: str) -> dict[str, str]:
        return {r["run_id"]: r["state"] for r in self.runs(dag_id)}

    def tis(self, dag_id: str, run_id: str) -> dict[tuple[str, int], dict[str, Any]]:
        rows = self.json("tasks", "states-for-dag-run", dag_id, run_id)
        return {(r["task_id"], r["map_index"]): r for r in rows}

    def ti_states(self, dag_id: str, run_id: str) -> dict[tuple[str, int], str | None]:
        return {key: row["state"] for key, row in self.tis(dag_id, run_id).items()}

    def executions(self) -> Counter[tuple[str, int]]:
        """How many times each (task_id, map_index) ran, from the journal the tasks append to."""
        if not self.journal.exists():
            return Counter()
        lines = [line.split() for line in self.journal.read_text().splitlines() if line.strip()]
        return Counter((task_id, int(map_index)) for task_id, map_index, *_ in lines)

    def log_dir(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Path:
        run_logs = self.home / "logs" / path_component("dag_id", dag_id) / path_component("run_id", run_id)
        return run_logs / path_component("task_id", task_id) / f"map_index={map_index}"


def describe(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"


@pytest.fixture
def env(tmp_path: Path) -> Env:
    home, dags = tmp_path / "home", tmp_path / "dags"
    dags.mkdir()
    journal, marker = tmp_path / "journal.txt", tmp_path / "marker"
    variables = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    variables.update(
        TRADEWIND_HOME=str(home),
        TRADEWIND__CORE__DAGS_FOLDER=str(dags),
        COLUMNS="200",
        TW_JOURNAL=str(journal),
        TW_MARKER=str(marker),
    )
    return Env(home, dags, journal, marker, variables)


# Each DAG file starts with this: ``note(ti)`` appends "task_id map_index try_number" to the journal.
PRELUDE = """
    import os
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    from tradewind import dag, get_current_context, task

    JOURNAL = Path(os.environ["TW_JOURNAL"])
    MARKER = Path(os.environ["TW_MARKER"])


    def note(ti, *extra):
        with JOURNAL.open("a") as journal:
            journal.write(" ".join(str(v) for v in (ti.task_id, ti.map_index, ti.try_number, *extra)) + "\\n")
"""


def dag_source(body: str) -> str:
    return textwrap.dedent(PRELUDE) + textwrap.dedent(body)


# -- 1. dags trigger ------------------------------------------------------------------------------

CONF_DAG = """
    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def conf_dag():
        @task
        def show(params=None, dag_run=None, ds=None, ti=None):
            note(ti, ds, dag_run.conf.get("x"))
            return params["x"]

        show()


    conf_dag()
"""


def test_trigger_prints_the_run_id_and_the_run_gets_conf_and_logical_date(env: Env) -> None:
    env.write_dag("conf_dag.py", dag_source(CONF_DAG))
    # a fresh home: no `db migrate` and no scheduler has ever parsed the DAG
    printed = env.json("dags", "trigger", "conf_dag", "--conf", '{"x": 1}', "--logical-date", "2025-01-02")
    run_id = printed["run_id"]
    assert printed["dag_id"] == "conf_dag"
    assert run_id.startswith("manual__2025-01-02"), printed
    assert printed["logical_date"].startswith("2025-01-02T00:00:00"), printed

    # the table output names the run too; --run-id chooses it
    table = env.run("dags", "trigger", "conf_dag", "--run-id", "my_run", "--conf", '{"x": 7}')
    assert "my_run" in table.stdout and "conf_dag" in table.stdout, describe(table)

    queued = env.runs("conf_dag")
    assert [(r["run_id"], r["state"], r["run_type"]) for r in queued] == [
        ("my_run", "queued", "manual"),  # newest logical date (now) first
        (run_id, "queued", "manual"),
    ]

    env.schedule()

    runs = {r["run_id"]: r for r in env.runs("conf_dag")}
    assert {k: (r["state"], r["run_type"]) for k, r in runs.items()} == {
        run_id: ("success", "manual"),
        "my_run": ("success", "manual"),
    }
    assert runs[run_id]["logical_date"].startswith("2025-01-02T00:00:00")
    # the task saw the conf through params and dag_run.conf, and the logical date as ds
    assert "show -1 1 2025-01-02 1" in env.journal.read_text().splitlines()
    log = env.log_dir("conf_dag", run_id, "show") / "attempt=1.log"
    assert "Returned value was: 1" in log.read_text()
    log = env.log_dir("conf_dag", "my_run", "show") / "attempt=1.log"
    assert "Returned value was: 7" in log.read_text()


def test_trigger_errors_are_clear_and_create_nothing(env: Env) -> None:
    env.write_dag("conf_dag.py", dag_source(CONF_DAG))
    env.trigger("conf_dag", "--run-id", "twice", "--conf", '{"x": 1}')

    again = env.run("dags", "trigger", "conf_dag", "--run-id", "twice", "--conf", '{"x": 2}', check=False)
    assert again.returncode != 0, describe(again)
    assert "twice" in again.stderr and "already" in again.stderr, describe(again)
    assert "Traceback" not in again.stderr, describe(again)

    unknown = env.run("dags", "trigger", "no_such_dag", "-o", "json", check=False)
    assert unknown.returncode != 0, describe(unknown)
    assert "no_such_dag" in unknown.stderr and "not found" in unknown.stderr, describe(unknown)
    assert "Traceback" not in unknown.stderr, describe(unknown)
    assert unknown.stdout.strip() == "", "no JSON is printed for a run that was not created"

    bad_conf = env.run("dags", "trigger", "conf_dag", "--conf", "{not json", check=False)
    assert bad_conf.returncode != 0, describe(bad_conf)
    assert "--conf" in bad_conf.stderr and "Traceback" not in bad_conf.stderr, describe(bad_conf)

    assert [r["run_id"] for r in env.runs("conf_dag")] == ["twice"]


# -- 2. pause / unpause ---------------------------------------------------------------------------

SIMPLE_DAG = """
    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def simple():
        @task
        def one(ti=None):
            note(ti)
            return 1

        @task
        def two(value, ti=None):
            note(ti)
            return value + 1

        two(one())


    simple()
"""


def test_a_paused_dag_keeps_its_run_queued_until_unpaused(env: Env) -> None:
    env.write_dag("simple.py", dag_source(SIMPLE_DAG))
    paused = env.run("dags", "pause", "simple")
    assert "paused" in paused.stdout
    triggered = env.run("dags", "trigger", "simple", "-o", "json")
    run_id = json.loads(triggered.stdout)["run_id"]
    assert "paused" in triggered.stderr, describe(triggered)  # the user learns why it will wait

    env.schedule()  # returns although a run is queued: the DAG is paused

    assert env.run_states("simple") == {run_id: "queued"}
    assert env.executions() == Counter()

    unpaused = env.run("dags", "unpause", "simple")
    assert "unpaused" in unpaused.stdout
    env.schedule()

    assert env.run_states("simple") == {run_id: "success"}
    assert env.executions() == Counter({("one", -1): 1, ("two", -1): 1})


def test_pausing_an_unknown_dag_is_a_clear_error(env: Env) -> None:
    env.write_dag("simple.py", dag_source(SIMPLE_DAG))
    done = env.run("dags", "pause", "no_such_dag", check=False)
    assert done.returncode != 0 and "no_such_dag" in done.stderr, describe(done)
    assert "Traceback" not in done.stderr, describe(done)


# -- 3. list-runs and states-for-dag-run ----------------------------------------------------------

REPORT_DAG = """
    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def report():
        @task
        def cities(params=None, ti=None):
            note(ti)
            if params.get("fail"):
                raise ValueError("asked to fail")
            return ["oslo", "lima", "pune"]

        @task(map_index_template="{{ city_label }}")
        def forecast(city, ti=None):
            note(ti)
            get_current_context()["city_label"] = city.title()
            return f"sunny in {city}"

        @task
        def summary(values, ti=None):
            note(ti)
            return len(list(values))

        summary(forecast.expand(city=cities()))


    report()
"""


def test_list_runs_and_states_for_dag_run_show_fields_and_states(env: Env) -> None:
    env.write_dag("report.py", dag_source(REPORT_DAG))
    good = env.trigger("report", "--run-id", "good", "--logical-date", "2025-03-01")
    bad = env.trigger("report", "--run-id", "bad", "--logical-date", "2025-03-02", "--conf", '{"fail": true}')

    before = env.runs("report")
    assert [r["run_id"] for r in before] == [bad, good], "newest logical date first"
    for row in before:
        assert set(row) == RUN_FIELDS
        assert (row["dag_id"], row["state"], row["run_type"]) == ("report", "queued", "manual")
        assert row["start_date"] is None and row["end_date"] is None
        assert row["dag_version"] == 1

    env.schedule()

    after = {r["run_id"]: r for r in env.runs("report")}
    assert {run_id: r["state"] for run_id, r in after.items()} == {good: "success", bad: "failed"}
    for row in after.values():
        assert set(row) == RUN_FIELDS
        assert row["start_date"] is not None and row["end_date"] is not None
        assert datetime.fromisoformat(row["start_date"]) <= datetime.fromisoformat(row["end_date"])
    assert after[good]["logical_date"].startswith("2025-03-01")
    assert after[bad]["logical_date"].startswith("2025-03-02")

    rows = env.json("tasks", "states-for-dag-run", "report", good)
    assert all(set(row) == TI_FIELDS for row in rows)
    assert [(r["task_id"], r["map_index"], r["state"], r["try_number"], r["label"]) for r in rows] == [
        ("cities", -1, "success", 1, None),
        ("forecast", 0, "success", 1, "Oslo"),
        ("forecast", 1, "success", 1, "Lima"),
        ("forecast", 2, "success", 1, "Pune"),
        ("summary", -1, "success", 1, None),
    ]
    assert all(r["start_date"] and r["end_date"] and r["duration"] is not None for r in rows)

    failed = env.tis("report", bad)
    assert failed[("cities", -1)]["state"] == "failed"
    assert failed[("cities", -1)]["try_number"] == 1
    assert failed[("forecast", -1)]["state"] == "upstream_failed"
    assert failed[("summary", -1)]["state"] == "upstream_failed"

    table = env.run("tasks", "states-for-dag-run", "report", good).stdout
    for word in ("forecast", "Oslo", "Lima", "Pune", "success"):
        assert word in table


# -- 4. tasks clear -------------------------------------------------------------------------------

FLAKY_DAG = """
    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def flaky_dag():
        @task
        def first(ti=None):
            note(ti)
            return 1

        @task
        def flaky(value, ti=None):
            note(ti)
            if not MARKER.exists():
                raise RuntimeError("the marker file does not exist yet")
            return value + 1

        @task
        def last(value, ti=None):
            note(ti)
            return value + 1

        last(flaky(first()))


    flaky_dag()
"""


def test_clear_only_failed_then_rerun_succeeds_without_rerunning_what_succeeded(env: Env) -> None:
    env.write_dag("flaky_dag.py", dag_source(FLAKY_DAG))
    run_id = env.trigger("flaky_dag")
    env.schedule()

    # without --yes, and no terminal to ask on: nothing is cleared
    refused = env.run("tasks", "clear", "flaky_dag", "--only-failed", check=False)
    assert refused.returncode != 0, describe(refused)
    assert "--yes" in refused.stderr and "Traceback" not in refused.stderr, describe(refused)
    assert env.ti_states("flaky_dag", run_id) == {
        ("first", -1): "success",
        ("flaky", -1): "failed",
        ("last", -1): "upstream_failed",
    }

    cleared = env.run("tasks", "clear", "flaky_dag", "--only-failed", "--yes")
    assert "flaky" in cleared.stdout and "last" in cleared.stdout, describe(cleared)
    assert "first" not in cleared.stdout, describe(cleared)
    assert "Cleared 2 task instance" in cleared.stdout, describe(cleared)
    assert env.ti_states("flaky_dag", run_id) == {("first", -1): "success", ("flaky", -1): None, ("last", -1): None}
    assert env.run_states("flaky_dag") == {run_id: "queued"}

    env.marker.touch()
    env.schedule()

    assert env.run_states("flaky_dag") == {run_id: "success"}
    tis = env.tis("flaky_dag", run_id)
    assert {key: row["state"] for key, row in tis.items()} == {
        ("first", -1): "success",
        ("flaky", -1): "success",
        ("last", -1): "success",
    }
    assert tis[("flaky", -1)]["try_number"] == 2  # clearing keeps counting tries, as Airflow does
    assert env.executions() == Counter({("first", -1): 1, ("flaky", -1): 2, ("last", -1): 1})
    log = env.log_dir("flaky_dag", run_id, "last") / "attempt=1.log"
    assert "Returned value was: 3" in log.read_text()  # first's XCom was still there for flaky


def test_clear_task_regex_with_and_without_downstream(env: Env) -> None:
    env.write_dag("flaky_dag.py", dag_source(FLAKY_DAG))
    env.marker.touch()
    run_id = env.trigger("flaky_dag")
    env.schedule()
    nothing = env.run("tasks", "clear", "flaky_dag", "--only-failed", "--yes")
    assert "Nothing to clear" in nothing.stdout, describe(nothing)

    # only the matched task
    done = env.run("tasks", "clear", "flaky_dag", "--task-regex", "^flaky$", "--no-downstream", "--yes")
    assert "Cleared 1 task instance" in done.stdout, describe(done)
    assert env.ti_states("flaky_dag", run_id) == {
        ("first", -1): "success",
        ("flaky", -1): None,
        ("last", -1): "success",
    }
    env.schedule()
    assert env.executions() == Counter({("first", -1): 1, ("flaky", -1): 2, ("last", -1): 1})

    # the matched task and its downstream
    done = env.run("tasks", "clear", "flaky_dag", "--task-regex", "^flaky$", "--yes")
    assert "Cleared 2 task instance" in done.stdout, describe(done)
    assert env.ti_states("flaky_dag", run_id) == {
        ("first", -1): "success",
        ("flaky", -1): None,
        ("last", -1): None,
    }
    env.schedule()
    assert env.run_states("flaky_dag") == {run_id: "success"}
    assert env.executions() == Counter({("first", -1): 1, ("flaky", -1): 3, ("last", -1): 2})


def test_clear_one_map_index_reruns_that_instance_only(env: Env) -> None:
    env.write_dag("report.py", dag_source(REPORT_DAG))
    run_id = env.trigger("report")
    env.schedule()

    # one instance, not its downstream
    env.run("tasks", "clear", "report", "-t", "^forecast$", "--map-index", "2", "--no-downstream", "--yes")
    states = env.ti_states("report", run_id)
    assert states[("forecast", 2)] is None
    assert states[("forecast", 0)] == states[("forecast", 1)] == states[("summary", -1)] == "success"
    env.schedule()
    assert env.executions() == Counter(
        {("cities", -1): 1, ("forecast", 0): 1, ("forecast", 1): 1, ("forecast", 2): 2, ("summary", -1): 1}
    )

    # one instance and its downstream
    done = env.run("tasks", "clear", "report", "--task-regex", "^forecast$", "--map-index", "1", "--yes")
    assert "Cleared 2 task instance" in done.stdout, describe(done)  # forecast[1] and its downstream summary
    assert env.ti_states("report", run_id) == {
        ("cities", -1): "success",
        ("forecast", 0): "success",
        ("forecast", 1): None,
        ("forecast", 2): "success",
        ("summary", -1): None,
    }

    env.schedule()

    assert env.run_states("report") == {run_id: "success"}
    tis = env.tis("report", run_id)
    assert {key: row["state"] for key, row in tis.items()} == {
        ("cities", -1): "success",
        ("forecast", 0): "success",
        ("forecast", 1): "success",
        ("forecast", 2): "success",
        ("summary", -1): "success",
    }
    assert tis[("forecast", 1)]["label"] == "Lima"
    assert tis[("forecast", 1)]["try_number"] == 2
    assert tis[("forecast", 0)]["try_number"] == 1
    assert tis[("forecast", 2)]["try_number"] == 2
    assert env.executions() == Counter(
        {("cities", -1): 1, ("forecast", 0): 1, ("forecast", 1): 2, ("forecast", 2): 2, ("summary", -1): 2}
    )
    log = env.log_dir("report", run_id, "summary") / "attempt=2.log"
    assert "Returned value was: 3" in log.read_text()  # it saw all three forecasts


# -- 5. backfill ----------------------------------------------------------------------------------

DAILY_NO_CATCHUP = """
    @dag(start_date=datetime(2024, 12, 1), schedule="@daily", catchup=False)
    def daily():
        @task
        def work(ds=None, ti=None):
            note(ti, ds)
            return ds

        work()


    daily()
"""


def test_backfill_runs_every_day_between_the_dates(env: Env) -> None:
    env.write_dag("daily.py", dag_source(DAILY_NO_CATCHUP))

    done = env.run("dags", "backfill", "daily", "--start-date", "2025-01-01", "--end-date", "2025-01-03")

    assert done.returncode == 0
    assert "3 run" in done.stdout, describe(done)
    assert "3 succeeded, 0 failed" in done.stdout, describe(done)
    runs = sorted(env.runs("daily"), key=lambda r: r["logical_date"])
    assert [(r["run_id"], r["run_type"], r["state"]) for r in runs] == [
        (f"backfill__2025-01-0{day}T00:00:00+00:00", "backfill", "success") for day in (1, 2, 3)
    ]
    assert [r["logical_date"][:10] for r in runs] == ["2025-01-01", "2025-01-02", "2025-01-03"]
    days = sorted(line.split()[3] for line in env.journal.read_text().splitlines())
    assert days == ["2025-01-01", "2025-01-02", "2025-01-03"]


def test_backfill_of_a_paused_dag_runs(env: Env) -> None:
    """As ``airflow dags backfill``: the user asked for these runs, pausing stops only the schedule."""
    env.write_dag("daily.py", dag_source(DAILY_NO_CATCHUP))
    env.run("dags", "pause", "daily")

    done = env.run("dags", "backfill", "daily", "-s", "2025-01-01", "-e", "2025-01-01", timeout=10, check=False)

    assert done.returncode == 0, describe(done)
    runs = [(r["run_id"], r["state"]) for r in env.runs("daily")]
    assert runs == [("backfill__2025-01-01T00:00:00+00:00", "success")]


def test_backfill_of_an_unscheduled_dag_is_a_clear_error(env: Env) -> None:
    env.write_dag("simple.py", dag_source(SIMPLE_DAG))
    done = env.run("dags", "backfill", "simple", "-s", "2025-01-01", "-e", "2025-01-03", check=False)
    assert done.returncode != 0, describe(done)
    assert "schedule" in done.stderr and "Traceback" not in done.stderr, describe(done)
    assert env.runs("simple") == []


# -- 6. scheduled runs ----------------------------------------------------------------------------

SCHEDULED_DAG = """
    START = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)


    @dag(start_date=START, schedule="@daily", catchup={catchup}, max_active_runs={max_active_runs})
    def {dag_id}():
        @task
        def work(ds=None, ti=None):
            note(ti, ds)
            return ds

        work()


    {dag_id}()
"""
SCHEDULED = {  # dag_id: (catchup, max_active_runs)
    "catching_up": (True, 16),
    "one_at_a_time": (True, 1),
    "latest_only": (False, 16),
}


def midnight(days_ago: int) -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)


def test_the_scheduler_creates_and_completes_the_due_scheduled_runs(env: Env) -> None:
    """Three @daily DAGs that started three days ago, run by one scheduler: with catchup a run
    per missed interval (also one after another under max_active_runs=1), without it only the
    latest interval."""
    first_day = midnight(3)  # what the DAG files compute, read before they are parsed
    for dag_id, (catchup, max_active_runs) in SCHEDULED.items():
        source = SCHEDULED_DAG.format(dag_id=dag_id, catchup=catchup, max_active_runs=max_active_runs)
        env.write_dag(f"{dag_id}.py", dag_source(source))

    env.schedule()

    runs = {dag_id: sorted(env.runs(dag_id), key=lambda r: r["logical_date"]) for dag_id in SCHEDULED}
    if first_day != midnight(3):
        pytest.skip("the UTC day changed while the test ran")
    every_day = [first_day + timedelta(days=n) for n in range(3)]
    expected = {"catching_up": every_day, "one_at_a_time": every_day, "latest_only": every_day[-1:]}
    for dag_id, days in expected.items():
        assert [(r["run_id"], r["run_type"], r["state"]) for r in runs[dag_id]] == [
            (f"scheduled__{day.isoformat()}", "scheduled", "success") for day in days
        ], f"{dag_id}: {runs[dag_id]}"
        assert [datetime.fromisoformat(r["logical_date"]) for r in runs[dag_id]] == days
    spans = [(r["start_date"], r["end_date"]) for r in runs["one_at_a_time"]]
    for (_, ended), (started, _) in pairwise(spans):
        assert datetime.fromisoformat(ended) <= datetime.fromisoformat(started), "max_active_runs=1: runs overlap"
    assert sum(env.executions().values()) == 3 + 3 + 1

    env.schedule()  # a second start creates nothing new: the next interval has not ended
    assert {dag_id: len(env.runs(dag_id)) for dag_id in SCHEDULED} == {dag_id: len(d) for dag_id, d in expected.items()}


# -- 7. a DAG file removed ------------------------------------------------------------------------


def test_runs_of_a_removed_dag_file_stay_listed(env: Env) -> None:
    path = env.write_dag("simple.py", dag_source(SIMPLE_DAG))
    done_id = env.trigger("simple", "--run-id", "done")
    env.schedule()
    left_id = env.trigger("simple", "--run-id", "left")  # queued when the file goes
    path.unlink()

    env.schedule()  # returns: nothing it can run

    runs = {r["run_id"]: r for r in env.runs("simple")}
    assert {run_id: r["state"] for run_id, r in runs.items()} == {done_id: "success", left_id: "queued"}
    assert env.executions() == Counter({("one", -1): 1, ("two", -1): 1})


# -- 8. db migrate / reset ------------------------------------------------------------------------


def test_db_reset_wipes_the_runs(env: Env) -> None:
    env.write_dag("simple.py", dag_source(SIMPLE_DAG))
    migrated = env.run("db", "migrate")
    assert "up to date" in migrated.stdout, describe(migrated)
    run_id = env.trigger("simple")
    env.schedule()

    refused = env.run("db", "reset", check=False)
    assert refused.returncode != 0 and "--yes" in refused.stderr, describe(refused)
    assert env.run_states("simple") == {run_id: "success"}

    reset = env.run("db", "reset", "--yes")
    assert "Deleted" in reset.stdout, describe(reset)
    assert env.runs("simple") == []
    gone = env.run("tasks", "states-for-dag-run", "simple", run_id, check=False)
    assert gone.returncode == 1 and f"has no run with run_id '{run_id}'" in gone.stderr, describe(gone)


# -- 9. retries through the scheduler -------------------------------------------------------------

RETRY_DAG = """
    @dag(start_date=datetime(2025, 1, 1), schedule=None)
    def retry_dag():
        @task(retries=1, retry_delay=0)
        def shaky(ti=None):
            note(ti)
            if ti.try_number % 2 == 1:
                raise RuntimeError(f"try {ti.try_number} fails on purpose")
            return f"try {ti.try_number} worked"

        shaky()


    retry_dag()
"""


def test_a_retried_task_succeeds_on_try_2_with_a_log_per_try(env: Env) -> None:
    env.write_dag("retry_dag.py", dag_source(RETRY_DAG))
    run_id = env.trigger("retry_dag")

    env.schedule()

    assert env.run_states("retry_dag") == {run_id: "success"}
    [row] = env.json("tasks", "states-for-dag-run", "retry_dag", run_id)
    assert (row["task_id"], row["map_index"], row["state"], row["try_number"]) == ("shaky", -1, "success", 2)
    assert env.journal.read_text().split("\n")[:2] == ["shaky -1 1", "shaky -1 2"]
    logs = env.log_dir("retry_dag", run_id, "shaky")
    assert sorted(p.name for p in logs.iterdir()) == ["attempt=1.log", "attempt=2.log"]
    assert "try 1 fails on purpose" in (logs / "attempt=1.log").read_text()
    assert "try 2 worked" in (logs / "attempt=2.log").read_text()


def test_a_cleared_task_gets_its_retries_again(env: Env) -> None:
    """Airflow: clearing gives the instance ``retries`` more tries beyond the tries already used."""
    env.write_dag("retry_dag.py", dag_source(RETRY_DAG))
    run_id = env.trigger("retry_dag")
    env.schedule()
    env.run("tasks", "clear", "retry_dag", "--yes")

    env.schedule()  # try 3 fails, try 4 (its retry) succeeds

    [row] = env.json("tasks", "states-for-dag-run", "retry_dag", run_id)
    assert (row["state"], row["try_number"]) == ("success", 4), row
    assert env.run_states("retry_dag") == {run_id: "success"}
    logs = env.log_dir("retry_dag", run_id, "shaky")
    assert "try 4 worked" in (logs / "attempt=4.log").read_text()
