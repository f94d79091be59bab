"""Asset events as a task sees them, run with ``dags test``: ``outlet_events`` (from a task
function, a yielded ``Metadata`` and a classic operator's ``post_execute``), aliases,
``triggering_asset_events`` (empty under ``dags test``, as in Airflow 3.3.2) and ``inlet_events``
(past events, read from the store); and what ``dags test`` of a producer records."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tradewind.definitions.dag import DAG
from tradewind.loader import load_dags
from tradewind.scheduler.dag_test import test_dag as run_dag
from tradewind.store import assets as store_assets
from tradewind.store import dag_versions as dv
from tradewind.store import queries as q
from tradewind.store.engine import make_engine, migrate, session_scope

PRODUCER = """
    from airflow.sdk import DAG, Asset, AssetAlias, Metadata, task
    from airflow.providers.standard.operators.bash import BashOperator

    report = Asset(name="report", uri="s3://shop/report")

    with DAG("producer", schedule=None):
        @task(outlets=[report])
        def by_context(*, outlet_events=None):
            outlet_events[report].extra = {"how": "context"}
            return 1

        @task(outlets=[report, AssetAlias("daily")])
        def by_yield():
            yield Metadata(report, {"how": "yield"})
            yield Metadata(Asset("s3://shop/day/1"), {"day": 1}, alias=AssetAlias("daily"))
            return 2

        def _post(context, result):
            context["outlet_events"][report].extra = {"how": "post_execute"}

        classic = BashOperator(task_id="classic", bash_command=":", outlets=[report], post_execute=_post)

        by_context() >> by_yield() >> classic
"""

CONSUMER = """
    from airflow.sdk import DAG, Asset, task

    report = Asset(name="report", uri="s3://shop/report")

    with DAG("consumer", schedule=[report]):
        @task(inlets=[report])
        def read(*, triggering_asset_events=None, inlet_events=None, dag_run=None):
            return {
                "triggering": len(triggering_asset_events),
                "missing": triggering_asset_events.get(report, "KeyError"),
                "run_type": dag_run.run_type,
                "inlet_extras": [e.extra for e in inlet_events[report]],
                "by_uri": [e.source_task_id for e in inlet_events.for_asset(uri="s3://shop/report")],
            }

        read()
"""


def load(folder: Path, name: str, source: str, dag_id: str) -> DAG:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(source))
    bag = load_dags(folder)
    assert bag.import_errors == {}, {k: v.full for k, v in bag.import_errors.items()}
    return bag.get_dag(dag_id)


def run(dag: DAG) -> tuple[str, dict[str, tuple[str | None, Any]], str]:
    log = io.StringIO()
    state = run_dag(dag, log)
    results = {r.task_id: (str(r.state) if r.state else None, r.return_value) for r in state.records()}
    return str(state.dag_run_state()), results, log.getvalue()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    return tmp_path


def with_store(dags: list[DAG]) -> Any:
    """The configured store, migrated, holding ``dags`` (unpaused), as the DAG processor leaves it."""
    from tradewind.definitions.serialized import serialize_with_hash

    engine = make_engine()
    migrate(engine)
    with session_scope(engine) as session:
        for dag in dags:
            data, digest = serialize_with_hash(dag)
            version = dv.DagVersionInput(dag.dag_id, digest, data, data["schedule"], [], dag.max_active_runs, False)
            dv.store_versions(session, dag.fileloc or dag.dag_id, [version])
            q.set_paused(session, dag.dag_id, False)
    return engine


def test_dags_test_of_a_producer_without_a_store_shows_the_events_are_not_recorded(home: Path) -> None:
    state, results, log = run(load(home / "dags", "producer.py", PRODUCER, "producer"))
    assert state == "success"
    assert results == {"by_context": ("success", 1), "by_yield": ("success", 2), "classic": ("success", "")}
    assert "asset events of s3://shop/day/1, s3://shop/report not recorded: there is no store" in log


def test_dags_test_of_a_producer_records_its_events_and_queues_the_consumer(home: Path) -> None:
    producer = load(home / "dags", "producer.py", PRODUCER, "producer")
    consumer = load(home / "dags", "consumer.py", CONSUMER, "consumer")
    engine = with_store([producer, consumer])
    state, _, log = run(producer)
    assert state == "success"
    with session_scope(engine) as session:
        events = [(e["name"], e["extra"], e["source_task_id"], e["aliases"]) for e in store_assets.events(session)]
        queued = store_assets.queued(session)
    assert events == [
        ("report", {"how": "context"}, "by_context", []),
        ("report", {"how": "yield"}, "by_yield", []),
        ("s3://shop/day/1", {"day": 1}, "by_yield", ["daily"]),
        ("report", {"how": "post_execute"}, "classic", []),
    ]
    assert set(queued) == {"consumer"}
    assert "recorded 4 asset event(s) of s3://shop/day/1, s3://shop/report in the store; queued for consumer" in log

    # dags test of the consumer: a manual run, no triggering events (as Airflow 3.3.2), and the
    # asset's past events through inlet_events
    state, results, _ = run(consumer)
    assert state == "success"
    assert results["read"] == (
        "success",
        {
            "triggering": 0,
            "missing": "KeyError",
            "run_type": "manual",
            "inlet_extras": [{"how": "context"}, {"how": "yield"}, {"how": "post_execute"}],
            "by_uri": ["by_context", "by_yield", "classic"],
        },
    )


def test_an_extra_that_is_not_json_fails_the_task(home: Path) -> None:
    source = """
        from airflow.sdk import DAG, Asset, task

        with DAG("bad_extra", schedule=None):
            @task(outlets=[Asset("a")])
            def publish(*, outlet_events=None):
                outlet_events[Asset("a")].extra["when"] = object()

            publish()
    """
    state, results, log = run(load(home / "dags", "bad.py", source, "bad_extra"))
    assert (state, results["publish"][0]) == ("failed", "failed")
    assert "The extra of the asset events of task 'publish'" in log


def test_outlet_events_refuses_what_is_not_an_asset(home: Path) -> None:
    source = """
        from airflow.sdk import DAG, Asset, task

        with DAG("wrong_key", schedule=None):
            @task(outlets=[Asset("a")])
            def publish(*, outlet_events=None):
                outlet_events["a"].extra["x"] = 1

            @task(outlets=[Asset("a")])
            def add_to_asset(*, outlet_events=None):
                outlet_events[Asset("a")].add(Asset("b"))

            publish(), add_to_asset()
    """
    _, results, log = run(load(home / "dags", "wrong.py", source, "wrong_key"))
    assert results["publish"][0] == results["add_to_asset"][0] == "failed"
    assert "outlet_events[...] takes an Asset or an AssetAlias, got 'a'" in log
    assert "only an AssetAlias's events take assets" in log
