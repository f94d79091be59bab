"""DAG-level callbacks, ``fail_fast`` and ``dagrun_timeout``, through both drivers of the run
state machine (``dags test`` and the scheduler with a LocalExecutor), as in Airflow 3.

Each DAG's callbacks append one line to a file in the scenario's scratch folder: which callback,
Airflow's ``reason``, the task instance whose context it got and the run id it saw.
"""

from __future__ import annotations

import io
import sys
import textwrap
from pathlib import Path

import pytest
from tests.scheduler.test_scenarios_both_drivers import DRIVERS, Scenario, write_scenario

from tradewind.loader import load_dags
from tradewind.scheduler import dag_test

CALLBACKS = """
def note(kind):
    def callback(context):
        with open(SCRATCH / "callbacks.txt", "a") as out:
            same_run = context["run_id"] == context["dag_run"].run_id
            out.write(f"{kind} {context['reason']} {context['ti'].task_id} {same_run}\\n")
    callback.__name__ = kind
    return callback
"""


def scenario(name: str, body: str, states: dict[tuple[str, int], str], run_state: str) -> Scenario:
    return Scenario(name, CALLBACKS + textwrap.dedent(body), states, run_state)


SUCCESS = scenario(
    "callback_on_success",
    """
    @dag(start_date=datetime(2025, 1, 1), schedule=None,
         on_success_callback=note("on_success"), on_failure_callback=note("on_failure"))
    def callback_on_success():
        @task
        def first():
            return 1

        @task
        def last(x):
            return x + 1

        last(first())

    callback_on_success()
    """,
    {("first", -1): "success", ("last", -1): "success"},
    "success",
)

FAILURE = scenario(
    "callback_on_failure",
    """
    def broken(context):
        raise RuntimeError("the callback itself fails")

    @dag(start_date=datetime(2025, 1, 1), schedule=None,
         on_success_callback=note("on_success"), on_failure_callback=[broken, note("on_failure")])
    def callback_on_failure():
        @task
        def boom():
            raise ValueError("no")

        @task
        def fine():
            return 1

        @task
        def after(x):
            return x

        after(boom())
        fine()

    callback_on_failure()
    """,
    {("boom", -1): "failed", ("fine", -1): "success", ("after", -1): "upstream_failed"},
    "failed",
)

# Airflow 3: the failed task's other not-finished instances are skipped, a running one fails;
# the run's state is still decided by its leaves (here all skipped: success, as in Airflow)
FAIL_FAST = scenario(
    "fail_fast_run",
    """
    @dag(start_date=datetime(2025, 1, 1), schedule=None, fail_fast=True, on_success_callback=note("on_success"))
    def fail_fast_run():
        @task(priority_weight=10)  # inline under `dags test`: boom runs first, slow is in flight then
        def boom():
            # fails once slow is surely running (under `dags test`, inline, it never is)
            for _ in range(30 if os.environ.get("TW_DRIVER") == "scheduler" else 0):
                if (SCRATCH / "slow-started").exists():
                    break
                time.sleep(0.1)
            time.sleep(0.3)
            raise ValueError("no")

        @task
        def slow():
            (SCRATCH / "slow-started").touch()
            time.sleep(2)
            return "done"

        @task
        def after(x):
            return x

        @task
        def later(x):
            return x

        after(boom())
        later(slow())

    fail_fast_run()
    """,
    {("boom", -1): "failed", ("slow", -1): "failed", ("after", -1): "skipped", ("later", -1): "skipped"},
    "success",
)

TIMEOUT = scenario(
    "timed_out_run",
    """
    from datetime import timedelta

    @dag(start_date=datetime(2025, 1, 1), schedule=None, dagrun_timeout=timedelta(seconds=1),
         on_failure_callback=note("on_failure"))
    def timed_out_run():
        @task
        def slow():
            time.sleep(2.5)
            return "done"

        @task
        def after(x):
            return x

        after(slow())

    timed_out_run()
    """,
    # the scheduler's timer fires while slow runs (skipped, its late result dropped, as Airflow
    # skips every unfinished instance); inline under `dags test` slow ends first
    {("slow", -1): "skipped", ("after", -1): "skipped"},
    "failed",
)


def run(driver: str, case: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, str, list[str]]:
    dags = write_scenario(tmp_path, case, monkeypatch)
    monkeypatch.setenv("TW_DRIVER", driver)
    outcome = DRIVERS[driver](dags, case, monkeypatch)
    states = {key: str(r.state) if r.state else None for key, r in outcome.records.items()}
    notes = tmp_path / "scratch" / "callbacks.txt"
    return states, outcome.run_state, notes.read_text().splitlines() if notes.exists() else []


BOTH = [pytest.param("dags_test", id="dags_test"), pytest.param("scheduler", id="scheduler", marks=pytest.mark.slow)]


@pytest.mark.parametrize("driver", BOTH)
def test_success_callback_is_called_once_with_the_last_instance(
    driver: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    states, run_state, notes = run(driver, SUCCESS, tmp_path, monkeypatch)
    assert (states, run_state) == (SUCCESS.states, "success")
    assert notes == ["on_success success last True"]


@pytest.mark.parametrize("driver", BOTH)
def test_failure_callback_gets_the_failed_instance_and_a_raising_callback_changes_nothing(
    driver: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    states, run_state, notes = run(driver, FAILURE, tmp_path, monkeypatch)
    assert (states, run_state) == (FAILURE.states, "failed")
    assert notes == ["on_failure task_failure boom True"]
    if driver == "scheduler":  # the worker's output of the run's DAG callbacks: one log per run
        [log] = (tmp_path / "home" / "logs").glob("dag_id=callback_on_failure/run_id=*/dag_callbacks.log")
        text = log.read_text()
        assert "Calling on_failure_callback broken" in text
        assert "on_failure_callback broken failed with RuntimeError: the callback itself fails" in text


@pytest.mark.parametrize("driver", BOTH)
def test_fail_fast_fails_the_running_task_and_skips_the_rest(
    driver: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    states, run_state, notes = run(driver, FAIL_FAST, tmp_path, monkeypatch)
    assert (states, run_state) == (FAIL_FAST.states, "success")
    assert notes == ["on_success success boom True"]  # the instance that ended last


@pytest.mark.slow
def test_dagrun_timeout_under_the_scheduler_skips_what_is_unfinished_and_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    states, run_state, notes = run("scheduler", TIMEOUT, tmp_path, monkeypatch)
    assert (states, run_state) == (TIMEOUT.states, "failed")
    assert notes == ["on_failure timed_out slow True"]


def test_dagrun_timeout_under_dags_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    states, run_state, notes = run("dags_test", TIMEOUT, tmp_path, monkeypatch)
    # inline, slow holds the only thread past the timeout: it ends, what is left is skipped
    assert (states, run_state) == ({("slow", -1): "success", ("after", -1): "skipped"}, "failed")
    assert notes == ["on_failure timed_out slow True"]


def test_dags_test_prints_what_the_callback_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dags = write_scenario(tmp_path, FAILURE, monkeypatch)
    monkeypatch.setattr(sys, "path", list(sys.path))
    log = io.StringIO()
    state = dag_test.test_dag(load_dags(dags).get_dag(FAILURE.name), log)
    assert str(state.dag_run_state()) == "failed"
    assert "on_failure_callback broken failed with RuntimeError: the callback itself fails" in log.getvalue()


def test_a_dag_with_callbacks_fail_fast_and_timeout_has_no_import_warning_for_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dags = write_scenario(tmp_path, FAIL_FAST, monkeypatch)
    monkeypatch.setattr(sys, "path", list(sys.path))
    dag = load_dags(dags).get_dag(FAIL_FAST.name)
    assert [m for m in dag.import_warnings.messages() if "callback" in m or "fail_fast" in m] == []


WAITING = Scenario(
    "fail_fast_waiting",
    """
    @dag(start_date=datetime(2025, 1, 1), schedule=None, fail_fast=True, max_active_tasks=1)
    def fail_fast_waiting():
        @task(priority_weight=10)
        def boom():
            raise ValueError("no")

        @task
        def held(n):
            (SCRATCH / f"held-{n}").touch()

        boom()
        held.expand(n=[1, 2, 3])

    fail_fast_waiting()
    """,
    {("boom", -1): "failed", ("held", 0): "skipped", ("held", 1): "skipped", ("held", 2): "skipped"},
    "failed",  # boom is a leaf
)


@pytest.mark.parametrize("driver", BOTH)
def test_fail_fast_skips_instances_waiting_for_a_slot_and_they_never_run(
    driver: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    states, run_state, _ = run(driver, WAITING, tmp_path, monkeypatch)
    assert (states, run_state) == (WAITING.states, "failed")
    assert sorted(p.name for p in (tmp_path / "scratch").iterdir()) == []


def test_a_fail_fast_dag_refuses_a_task_with_another_trigger_rule_as_airflow_does(tmp_path: Path) -> None:
    (tmp_path / "strict.py").write_text(
        textwrap.dedent(
            """
            from datetime import datetime
            from airflow.sdk import DAG
            from airflow.providers.standard.operators.empty import EmptyOperator

            with DAG("strict", start_date=datetime(2025, 1, 1), schedule=None, fail_stop=True):
                EmptyOperator(task_id="cleanup", trigger_rule="all_done")
            """
        )
    )
    bag = load_dags(tmp_path)
    [(path, info)] = bag.import_errors.items()
    message = info.error
    assert path.endswith("strict.py") and "(line 7)" in message
    assert "task 'cleanup' cannot have trigger_rule 'all_done': use the default trigger rule" in message
