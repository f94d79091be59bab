"""The same DAG files through both drivers of the run state machine, with the same outcome.

* ``dags test``: :func:`tradewind.scheduler.dag_test.test_dag` on the DAG imported in this
  process, tasks run inline;
* the scheduler: the DAG processor stores the file on SQLite, a manual run is created and the
  real :class:`Scheduler` runs it with a LocalExecutor of 2 worker processes until idle.

Each scenario is a DAG file (its DAG id is the scenario's name) and the final state, try number
and, where it matters, the return value of every (task_id, map_index).
"""

from __future__ import annotations

import io
import sys
import textwrap
import time
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tradewind.executors.local import LocalExecutor, task_log_path
from tradewind.loader import load_dags
from tradewind.processor import DagProcessor
from tradewind.scheduler import dag_test
from tradewind.scheduler.loop import Scheduler
from tradewind.scheduler.persistence import StoreGateway
from tradewind.scheduler.records import InstanceRecord
from tradewind.store.engine import make_engine, migrate

Key = tuple[str, int]

PRELUDE = """
import os
import time
from datetime import datetime
from pathlib import Path

from tradewind import dag, task

SCRATCH = Path(os.environ["TW_SCENARIO_DIR"])  # a fresh folder per driver run
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    body: str  # defines and calls the @dag function named like the scenario
    states: dict[Key, str]  # final state of every instance
    run_state: str
    tries: dict[Key, int] = field(default_factory=dict)  # try numbers that are not 1
    returns: dict[Key, Any] = field(default_factory=dict)
    errors: dict[Key, str] = field(default_factory=dict)  # words the instance's error must contain

    @property
    def source(self) -> str:
        return PRELUDE + textwrap.dedent(self.body)


SCENARIOS = [
    Scenario(
        "fan_out_and_reduce",
        """
        @dag(start_date=datetime(2025, 1, 1), schedule=None)
        def fan_out_and_reduce():
            @task
            def numbers():
                return [1, 2, 3]

            @task
            def double(x):
                return 2 * x

            @task
            def total(values):
                return sum(values)

            total(double.expand(x=numbers()))

        fan_out_and_reduce()
        """,
        states={
            ("numbers", -1): "success",
            ("double", 0): "success",
            ("double", 1): "success",
            ("double", 2): "success",
            ("total", -1): "success",
        },
        run_state="success",
        returns={("double", 2): 6, ("total", -1): 12},
    ),
    Scenario(
        "branch",
        """
        @dag(start_date=datetime(2025, 1, 1), schedule=None)
        def branch():
            @task.branch
            def choose():
                return "left"

            @task
            def left():
                return "went left"

            @task
            def right():
                return "went right"

            @task
            def after_right():
                return "after right"

            @task(trigger_rule="none_failed_min_one_success")
            def join():
                return "joined"

            chosen, went_left, went_right, after = choose(), left(), right(), after_right()
            chosen >> [went_left, went_right]
            went_right >> after
            [went_left, after] >> join()

        branch()
        """,
        states={
            ("choose", -1): "success",
            ("left", -1): "success",
            ("right", -1): "skipped",
            ("after_right", -1): "skipped",
            ("join", -1): "success",
        },
        run_state="success",
        returns={("left", -1): "went left", ("join", -1): "joined"},
    ),
    Scenario(
        "retry_then_succeed",
        """
        @dag(start_date=datetime(2025, 1, 1), schedule=None)
        def retry_then_succeed():
            @task(retries=2, retry_delay=0)
            def flaky():
                counter = SCRATCH / "tries"
                tries = int(counter.read_text()) + 1 if counter.exists() else 1
                counter.write_text(str(tries))
                if tries < 2:
                    raise RuntimeError(f"try {tries} fails on purpose")
                return tries

            @task
            def after(value):
                return value * 10

            after(flaky())

        retry_then_succeed()
        """,
        states={("flaky", -1): "success", ("after", -1): "success"},
        run_state="success",
        tries={("flaky", -1): 2},
        returns={("flaky", -1): 2, ("after", -1): 20},
    ),
    Scenario(
        "all_done_after_failure",
        """
        @dag(start_date=datetime(2025, 1, 1), schedule=None)
        def all_done_after_failure():
            @task
            def fails():
                raise ValueError("fails on purpose")

            @task(trigger_rule="all_done")
            def cleanup():
                return "cleaned up"

            @task
            def needs_success():
                return "never"

            failing = fails()
            failing >> cleanup()
            failing >> needs_success()

        all_done_after_failure()
        """,
        states={
            ("fails", -1): "failed",
            ("cleanup", -1): "success",
            ("needs_success", -1): "upstream_failed",
        },
        run_state="failed",
        returns={("cleanup", -1): "cleaned up"},
        errors={("fails", -1): "fails on purpose"},
    ),
    Scenario(
        "map_over_nothing",
        """
        @dag(start_date=datetime(2025, 1, 1), schedule=None)
        def map_over_nothing():
            @task
            def nothing():
                return []

            @task
            def each(x):
                return x

            @task
            def summary(values):
                return len(list(values))

            summary(each.expand(x=nothing()))

        map_over_nothing()
        """,
        states={("nothing", -1): "success", ("each", -1): "skipped", ("summary", -1): "skipped"},
        run_state="success",
    ),
    Scenario(
        "missing_pool",
        """
        @dag(start_date=datetime(2025, 1, 1), schedule=None)
        def missing_pool():
            @task(pool="no_such_pool")
            def pooled():
                return 1

            @task
            def after(value):
                return value

            after(pooled())

        missing_pool()
        """,
        states={("pooled", -1): "failed", ("after", -1): "upstream_failed"},
        run_state="failed",
        errors={("pooled", -1): "tradewind pools set no_such_pool"},
    ),
    Scenario(
        "one_instance_at_a_time",
        """
        @dag(start_date=datetime(2025, 1, 1), schedule=None)
        def one_instance_at_a_time():
            @task(max_active_tis_per_dagrun=1)
            def slow(x):
                time.sleep(0.2)
                return x

            slow.expand(x=[1, 2, 3])

        one_instance_at_a_time()
        """,
        states={("slow", 0): "success", ("slow", 1): "success", ("slow", 2): "success"},
        run_state="success",
        returns={("slow", 0): 1, ("slow", 1): 2, ("slow", 2): 3},
    ),
    # issue 9: a teardown runs after its work failed, and the run fails for the work, not it
    Scenario(
        "teardown_after_failure",
        """
        from tradewind.definitions.taskflow import setup, teardown

        @dag(start_date=datetime(2025, 1, 1), schedule=None)
        def teardown_after_failure():
            @setup
            def create():
                return "cluster"

            @task
            def work(cluster):
                raise RuntimeError("work failed on " + cluster)

            @teardown
            def delete(cluster):
                return "deleted " + cluster

            cluster = create()
            work(cluster) >> delete(cluster)

        teardown_after_failure()
        """,
        states={(t, -1): s for t, s in [("create", "success"), ("work", "failed"), ("delete", "success")]},
        run_state="failed",
        returns={("delete", -1): "deleted cluster"},
        errors={("work", -1): "work failed on cluster"},
    ),
    # issue 9: a sensor finds the file another task wrote, and hands on a value
    Scenario(
        "sensor_pokes",
        """
        from tradewind.definitions.sensors import PokeReturnValue

        @dag(start_date=datetime(2025, 1, 1), schedule=None)
        def sensor_pokes():
            @task
            def write():
                time.sleep(0.3)
                (SCRATCH / "ready").write_text("42")

            @task.sensor(poke_interval=0.05, timeout=30)
            def wait():
                found = SCRATCH / "ready"
                return PokeReturnValue(found.exists(), found.read_text() if found.exists() else None)

            @task
            def use(value):
                return int(value) + 1

            # dags test runs one task at a time (in no set order among ready ones): a sensor
            # waiting there for a task not yet run would wait until its timeout
            waited = wait()
            write() >> waited
            use(waited)

        sensor_pokes()
        """,
        states={(t, -1): "success" for t in ("write", "wait", "use")},
        run_state="success",
        returns={("wait", -1): "42", ("use", -1): 43},
    ),
    # issue 9: in reschedule mode a sensor gives its slot back between pokes (room for one task
    # at a time here, so the writer runs between two pokes when the sensor starts first); each
    # poke is a try of its own
    Scenario(
        "sensor_reschedules",
        """
        from tradewind.definitions.sensors import PokeReturnValue

        @dag(start_date=datetime(2025, 1, 1), schedule=None, max_active_tasks=1)
        def sensor_reschedules():
            @task.sensor(poke_interval=0.5, timeout=30, mode="reschedule")
            def wait():
                poked, found = SCRATCH / "poked", SCRATCH / "ready"
                if not poked.exists():  # the first poke is never enough: the sensor reschedules once
                    poked.write_text("")
                    return False
                return PokeReturnValue(found.exists(), found.read_text() if found.exists() else None)

            @task
            def write():
                (SCRATCH / "ready").write_text("7")

            @task
            def use(value):
                return int(value) * 6

            use(wait())
            write()

        sensor_reschedules()
        """,
        states={(t, -1): "success" for t in ("write", "wait", "use")},
        run_state="success",
        tries={("wait", -1): 2},
        returns={("wait", -1): "7", ("use", -1): 42},
    ),
]


# -- the drivers ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    run_state: str
    records: dict[Key, InstanceRecord]


def write_scenario(tmp_path: Path, scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> Path:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / f"{scenario.name}.py").write_text(scenario.source)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TW_SCENARIO_DIR", str(scratch))
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    return dags


def run_dags_test(dags: Path, scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> Outcome:
    monkeypatch.setattr(sys, "path", list(sys.path))  # load_dags puts the folder on sys.path
    bag = load_dags(dags)
    assert bag.import_errors == {}
    state = dag_test.test_dag(bag.get_dag(scenario.name), io.StringIO())
    return Outcome(str(state.dag_run_state()), {(r.task_id, r.map_index): r for r in state.records()})


SCHEDULER_DEADLINE = 10.0  # seconds; each scenario needs one or two


def run_scheduler(dags: Path, scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> Outcome:
    engine = make_engine()
    migrate(engine)
    try:
        gateway = StoreGateway(engine)
        processor = DagProcessor(dags, engine)
        processor.run_once()
        context = gateway.create_manual_run(gateway.get_dag(scenario.name), None, {})
        scheduler = Scheduler(
            gateway, LocalExecutor(parallelism=2), processor=processor, log=io.StringIO(), log_path=task_log_path
        )
        # a run that never finishes fails its test instead of hanging the suite
        deadline = time.monotonic() + SCHEDULER_DEADLINE
        scheduler.run(until_idle=True, should_stop=lambda: time.monotonic() > deadline)
        [run] = gateway.list_runs(scenario.name)
        records = gateway.load_records(scenario.name, context.run_id)
    finally:
        engine.dispose()
    return Outcome(str(run.state), {(r.task_id, r.map_index): r for r in records})


DRIVERS = {"dags_test": run_dags_test, "scheduler": run_scheduler}
KNOWN_BUGS: dict[tuple[str, str], str] = {}  # (driver, scenario) -> why it fails today


def cases() -> list[Any]:
    found = []
    for scenario in SCENARIOS:
        for driver in DRIVERS:
            marks: list[Any] = [pytest.mark.slow] if driver == "scheduler" else []
            bug = KNOWN_BUGS.get((driver, scenario.name))
            if bug is not None:
                marks.append(pytest.mark.xfail(strict=True, reason=bug))
            found.append(pytest.param(driver, scenario, id=f"{scenario.name}-{driver}", marks=marks))
    return found


@pytest.mark.parametrize(("driver", "scenario"), cases())
def test_scenario(driver: str, scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dags = write_scenario(tmp_path, scenario, monkeypatch)

    outcome = DRIVERS[driver](dags, scenario, monkeypatch)

    records = outcome.records
    assert {key: str(r.state) if r.state else None for key, r in records.items()} == scenario.states
    assert outcome.run_state == scenario.run_state
    ran = {key for key, state in scenario.states.items() if state in ("success", "failed")}
    assert {key: records[key].try_number for key in ran} == {key: scenario.tries.get(key, 1) for key in ran}
    assert {key: records[key].return_value for key in scenario.returns} == scenario.returns
    for key, words in scenario.errors.items():
        error = records[key].error
        assert error is not None and words in error.message, f"{key}: {error}"
    if scenario.name == "one_instance_at_a_time":
        spans = sorted((r.started_at, r.ended_at) for r in records.values())
        for (_, ended), (started, _) in pairwise(spans):
            assert ended is not None and started is not None and ended <= started, f"instances overlap: {spans}"
