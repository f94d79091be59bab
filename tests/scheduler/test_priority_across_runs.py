"""``priority_weight`` and ``weight_rule`` order ready work across every run and DAG the scheduler
holds, as Airflow's scheduler does (higher weight first, then the earlier run), under pools,
``max_active_tasks`` and the executor; custom ``PriorityWeightStrategy`` classes give weights at
import (Airflow's ``example_custom_weight`` gives Airflow's weights)."""

from __future__ import annotations

import io
import sys
import textwrap
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradewind import DAG, task
from tradewind.control.pools import create_pool
from tradewind.definitions.priority_strategy import PriorityWeightStrategy, parse_weight_rule
from tradewind.definitions.serialized import SerializedDAG
from tradewind.definitions.states import TaskInstanceState as S
from tradewind.errors import DagDefinitionError
from tradewind.executors.local import LocalExecutor, task_log_path
from tradewind.loader import load_dags
from tradewind.processor import DagProcessor
from tradewind.scheduler import dag_test
from tradewind.scheduler.admission import ActiveRun, Admission
from tradewind.scheduler.loop import Scheduler
from tradewind.scheduler.persistence import StoreGateway
from tradewind.scheduler.run_state import RunState
from tradewind.store.engine import make_engine, migrate

D1, D2 = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC)


class Ten(PriorityWeightStrategy):
    def get_weight(self, ti):
        return 10 + (ti.try_number or 0)


# -- weight rules ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("downstream", "downstream"),
        ("absolute", "absolute"),
        ("airflow.task.priority_strategy._UpstreamPriorityWeightStrategy", "upstream"),
        (Ten(), Ten()),
        (Ten, Ten()),
        (f"{__name__}.Ten", Ten()),
    ],
)
def test_weight_rule_accepts_names_strategies_and_their_paths(value, expected) -> None:
    assert parse_weight_rule(value, "t") == expected


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("sideways", "weight_rule 'sideways' is not a weight rule: use one of 'downstream', 'upstream', 'absolute'"),
        ("no_such_module.Strategy", "weight_rule 'no_such_module.Strategy' cannot be imported"),
        (f"{__name__}.D1", "is not a PriorityWeightStrategy"),
        (3, "weight_rule 3 is not a weight rule"),
    ],
)
def test_a_wrong_weight_rule_names_the_task_and_the_fix(value, words) -> None:
    with pytest.raises(DagDefinitionError, match="Task 't'") as raised:
        parse_weight_rule(value, "t")
    assert words in str(raised.value)


def build(dag_id: str, weight: int, rule: object = "downstream", pool: str = "one") -> DAG:
    with DAG(dag_id, start_date=D1, schedule=None) as dag:

        @task(pool=pool, priority_weight=weight, weight_rule=rule)
        def work():
            return dag_id

        @task
        def after(x):
            return x

        after(work())
    return dag


def test_a_custom_strategy_is_called_at_import_and_stored_as_the_weight() -> None:
    serialized = SerializedDAG.from_dag(build("custom", 1, rule=Ten()))
    assert serialized.priorities == {"work": 10, "after": 1}
    assert serialized.task_dict["work"].weight_rule == f"{__name__}.Ten"


def test_ready_work_of_two_runs_is_admitted_heaviest_first_even_from_the_later_run() -> None:
    light, heavy = build("light", 1), build("heavy", 5)
    runs = []
    for dag, moment in ((light, D1), (heavy, D2)):  # the light run is the earlier one
        state = RunState(dag, dag_test.make_run_context(dag, moment))
        active = ActiveRun(state.dag, state)
        active.waiting.extend(state.schedule())
        runs.append(active)
    admission = Admission({"one": 1})

    first = admission.admit_runs(runs, lambda dag_id, task_id: 0)

    assert [r.task_id for r in first[id(runs[1])]] == ["work"] and first[id(runs[0])] == []
    admission.release(runs[1].dag.task_dict["work"], "heavy")
    second = admission.admit_runs(runs, lambda dag_id, task_id: 0)
    assert [r.task_id for r in second[id(runs[0])]] == ["work"]


def test_with_equal_weights_the_earlier_run_goes_first() -> None:
    runs = []
    for moment in (D2, D1):
        dag = build("same", 3)
        state = RunState(dag, dag_test.make_run_context(dag, moment))
        active = ActiveRun(state.dag, state)
        active.waiting.extend(state.schedule())
        runs.append(active)

    admitted = Admission({"one": 1}).admit_runs(runs, lambda dag_id, task_id: 0)

    assert admitted[id(runs[1])] and not admitted[id(runs[0])]


# -- Airflow's example_custom_weight ------------------------------------------------------------
def test_airflow_example_custom_weight_gives_airflows_weights(tmp_path, monkeypatch) -> None:
    wheels = sorted((Path(__file__).parents[2] / ".cache" / "airflow-wheels").glob("apache_airflow_core-3.*.whl"))
    if not wheels:
        pytest.skip("apache_airflow_core-3 wheel not in .cache/airflow-wheels: run scripts/test, which downloads it")
    with zipfile.ZipFile(wheels[-1]) as archive:
        source = archive.read("airflow/example_dags/example_custom_weight.py").decode()
        plugin = archive.read("airflow/example_dags/plugins/decreasing_priority_weight_strategy.py")
    # the strategy's module lives in Airflow's own package: here it sits next to the DAG file
    module = "airflow.example_dags.plugins.decreasing_priority_weight_strategy"
    (tmp_path / "decreasing_priority_weight_strategy.py").write_bytes(plugin)
    (tmp_path / "example_custom_weight.py").write_text(source.replace(module, "decreasing_priority_weight_strategy"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    bag = load_dags(tmp_path)
    assert bag.import_errors == {}
    dag = bag.get_dag("example_custom_weight")

    # what Airflow 3.3.2 gives its task instances (observed: TaskInstance(task).priority_weight)
    assert SerializedDAG.from_dag(dag).priorities == {"start": 5, "task_1": 4, "task_2": 4, "task_non_custom": 2}
    assert dag.import_warnings.messages() == []
    state = dag_test.test_dag(dag, io.StringIO())
    assert {r.task_id: r.state for r in state.records()} == dict.fromkeys(
        ("start", "task_1", "task_2", "task_non_custom"), S.SUCCESS
    )


# -- the scheduler ------------------------------------------------------------------------------
COMPETING = """
    import os
    import time
    from datetime import datetime
    from pathlib import Path

    from tradewind import dag, task

    @dag(dag_id="{name}", start_date=datetime(2025, 1, 1), schedule=None)
    def build():
        @task(pool="one", priority_weight={weight})
        def work():
            started = time.time()
            time.sleep(0.3)
            return started

        work()

    build()
"""


@pytest.mark.slow
def test_two_dags_compete_for_one_slot_and_the_heavier_goes_first(tmp_path, monkeypatch) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    for name, weight in (("aa_light", 1), ("zz_heavy", 7)):
        (dags / f"{name}.py").write_text(textwrap.dedent(COMPETING.format(name=name, weight=weight)))
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    engine = make_engine()
    migrate(engine)
    create_pool(engine, "one", 1)
    gateway = StoreGateway(engine)
    processor = DagProcessor(dags, engine)
    processor.run_once()
    # the light DAG's run is the earlier one: only the weight puts the heavy one first
    runs = {
        name: gateway.create_manual_run(gateway.get_dag(name), moment, {}).run_id
        for name, moment in (("aa_light", D1), ("zz_heavy", D2))
    }
    scheduler = Scheduler(
        gateway, LocalExecutor(parallelism=2), processor=processor, log=io.StringIO(), log_path=task_log_path
    )
    deadline = time.monotonic() + 15
    scheduler.run(until_idle=True, should_stop=lambda: time.monotonic() > deadline)

    records = {name: gateway.load_records(name, run_id)[0] for name, run_id in runs.items()}
    engine.dispose()
    assert {name: r.state for name, r in records.items()} == {"aa_light": S.SUCCESS, "zz_heavy": S.SUCCESS}
    assert records["zz_heavy"].ended_at <= records["aa_light"].started_at
    assert records["zz_heavy"].xcoms["return_value"] < records["aa_light"].xcoms["return_value"]
