"""The operations every front end shares, on a real store with a run finished by the real
scheduler: trigger against the DAG's params, pause, clear by map indexes and failures."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from tradewind import control
from tradewind.executors.local import LocalExecutor, task_log_path
from tradewind.processor import DagProcessor
from tradewind.scheduler.loop import Scheduler
from tradewind.scheduler.persistence import StoreGateway
from tradewind.store import make_engine, migrate

DAG = """
    from datetime import datetime
    from tradewind import DAG, Param, task

    with DAG("ops", start_date=datetime(2025, 1, 1), schedule=None, params={"limit": Param(2, type="integer")}):
        @task
        def work(x):
            if x % 2:
                raise ValueError(f"odd {x}")
            return x

        @task
        def total(values):
            return sum(values)

        total(work.expand(x=[0, 1, 2, 3]))

    with DAG("daily_edge", start_date=datetime(2025, 1, 1), schedule="@daily", catchup=False):
        work.override(task_id="only")(0)
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    base = tmp_path_factory.mktemp("control")
    (base / "dags").mkdir()
    (base / "dags" / "ops.py").write_text(textwrap.dedent(DAG))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRADEWIND_HOME", str(base / "home"))
        engine = make_engine(f"sqlite:///{base / 'tw.db'}")
        migrate(engine)
        processor = DagProcessor(base / "dags", engine)
        processor.run_once()
        control.trigger_run(engine, "ops", run_id="first")
        gateway = StoreGateway(engine)
        Scheduler(gateway, LocalExecutor(parallelism=1), log=io.StringIO(), log_path=task_log_path).run(until_idle=True)
        yield engine
        engine.dispose()


def keys(cleared: list[control.ClearedInstance]) -> list[tuple[str, int]]:
    return [(c.task_id, c.map_index) for c in cleared]


def test_trigger_checks_conf_against_the_params(engine: Engine) -> None:
    run = control.trigger_run(engine, "ops", conf={"limit": 5}, run_id="with_conf")
    assert (run.run_id, run.state, run.conf) == ("with_conf", "queued", {"limit": 5})
    with pytest.raises(
        control.InvalidRequest,
        match="conf does not fit the params of DAG 'ops': param 'limit': value \"many\" breaks type=\"integer\"",
    ):
        control.trigger_run(engine, "ops", conf={"limit": "many"})
    with pytest.raises(control.InvalidRequest, match="conf must be a JSON object"):
        control.trigger_run(engine, "ops", conf=[1])
    with pytest.raises(control.Conflict, match="already has a run with run_id 'with_conf'"):
        control.trigger_run(engine, "ops", run_id="with_conf")
    with pytest.raises(control.NotFound, match="DAG 'nope' not found"):
        control.trigger_run(engine, "nope")


@pytest.mark.parametrize("moment", [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)])
def test_a_logical_date_at_the_calendars_edge_is_refused(engine: Engine, moment: datetime) -> None:
    with pytest.raises(control.InvalidRequest, match="too close to the limits of the calendar"):
        control.trigger_run(engine, "daily_edge", logical_date=moment)


def test_pause_and_unpause(engine: Engine) -> None:
    assert control.set_paused(engine, "ops", True).is_paused is True
    assert control.set_paused(engine, "ops", False).is_paused is False
    with pytest.raises(control.NotFound):
        control.set_paused(engine, "nope", True)


def test_clear_dry_runs_by_map_indexes_only_failed_and_downstream(engine: Engine) -> None:
    def dry(**kwargs: object) -> list[tuple[str, int]]:
        return keys(control.clear_task_instances(engine, "ops", run_id="first", dry_run=True, **kwargs))  # type: ignore[arg-type]

    assert dry(task_ids=["work"], only_failed=True) == [("work", 1), ("work", 3)]
    assert dry(task_ids=["work"], map_indexes=[0, 3]) == [("work", 0), ("work", 3)]
    assert dry(task_ids=[("work", 2), ("work", 3)], only_failed=True) == [("work", 3)]
    assert dry(task_ids=[("work", 0)], include_downstream=True) == [("total", -1), ("work", 0)]
    assert dry(task_ids=["total"]) == [("total", -1)]
    with pytest.raises(control.InvalidRequest, match="has no task 'wrk'; did you mean 'work'"):
        dry(task_ids=["wrk"])
    with pytest.raises(control.InvalidRequest, match="a task id or a \\[task_id, map_index\\] pair"):
        dry(task_ids=[("work", "0")])
    with pytest.raises(control.NotFound, match="has no run with run_id 'second'"):
        control.clear_task_instances(engine, "ops", run_id="second")


def test_set_state_of_a_finished_run(engine: Engine) -> None:
    control.trigger_run(engine, "ops", run_id="to_mark")
    assert control.set_run_state(engine, "ops", "to_mark", "success").state == "success"
    with pytest.raises(control.InvalidRequest, match="state must be one of queued, success, failed"):
        control.set_run_state(engine, "ops", "to_mark", "running")
