"""Airflow 3.3's own asset example DAGs, read from its wheel: each file that needs no outside
service imports, and its DAGs run with ``dags test`` in the order below give the task instances,
states and return values Airflow 3.3.2 gave for ``airflow dags test DAG_ID 2026-11-29`` in that
same order on one database (observed with a real Airflow 3.3.2). The events each producer records
are read by the later consumers (``inlet_events``), here from tradewind's store as there from
Airflow's."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_airflow_examples import wheel

from tradewind.loader import load_dags
from tradewind.scheduler.dag_test import test_dag as run_dag
from tradewind.store import assets as store_assets
from tradewind.store.engine import make_engine, migrate, session_scope

LOGICAL_DATE = datetime(2026, 11, 29, tzinfo=UTC)
RUNS = [
    "example_asset_alias.py",
    "example_asset_alias_with_no_taskflow.py",
    "example_outlet_event_extra.py",
    "example_inlet_event_extra.py",
    "example_assets.py",
    "example_asset_decorator.py",
]
# files that do not import, and why (docs/airflow-compatibility.md)
REFUSED = {
    "example_asset_with_watchers.py": "airflow.providers.standard.triggers",  # watchers need a triggerer
    "example_asset_partition.py": "airflow.sdk.AllowedKeyMapper",  # partitioned assets
    "example_asset_allow_teams.py": "airflow.sdk.AssetAccessControl",  # teams
}
# (dag_id, run state, {task_id: (state, return value)}), in the order Airflow ran them
AIRFLOW_3_RUNS: list[tuple[str, str, dict[str, tuple[str, Any]]]] = [
    ("asset_s3_bucket_producer", "success", {"produce_asset_events": ("success", None)}),
    ("asset_alias_example_alias_producer", "success", {"produce_asset_events_through_asset_alias": ("success", None)}),
    ("asset_s3_bucket_consumer", "success", {"consume_asset_event": ("success", None)}),
    ("asset_alias_example_alias_consumer", "success", {"consume_asset_event_from_asset_alias": ("success", None)}),
    ("asset_s3_bucket_producer_with_no_taskflow", "success", {"produce_asset_events": ("success", None)}),
    (
        "asset_alias_example_alias_producer_with_no_taskflow",
        "success",
        {"produce_asset_events_through_asset_alias_with_no_taskflow": ("success", None)},
    ),
    ("asset_s3_bucket_consumer_with_no_taskflow", "success", {"consume_asset_event": ("success", None)}),
    (
        "asset_alias_example_alias_consumer_with_no_taskflow",
        "success",
        {"consume_asset_event_from_asset_alias": ("success", None)},
    ),
    # no event of s3://output/1.txt yet: `inlet_events.for_asset(...)[-1]` is undefined
    ("read_asset_event_from_classic", "failed", {"read_asset_event_from_classic": ("failed", None)}),
    ("asset_with_extra_by_context", "success", {"asset_with_extra_by_context": ("success", None)}),
    ("asset_with_extra_by_yield", "success", {"asset_with_extra_by_yield": ("success", None)}),
    ("asset_with_extra_from_classic_operator", "success", {"asset_with_extra_from_classic_operator": ("success", "")}),
    # Airflow marks Asset("s3://output/1.txt") inactive (test-asset has the same uri and another
    # name) and fails the tasks that name it; tradewind has no asset activation (docs/adr/0012)
    ("read_asset_event", "failed", {"read_asset_event": ("failed", None)}),
    ("read_asset_event_from_classic", "failed", {"read_asset_event_from_classic": ("failed", None)}),
    ("asset1_producer", "success", {"asset1_producer": ("success", None)}),
    ("asset2_producer", "success", {"asset2_producer": ("success", None)}),
    ("consumes_asset_decorator", "success", {"process_nothing": ("success", None)}),
]
# where tradewind differs (by position in AIRFLOW_3_RUNS), and what it gives instead (the
# reason is above: no asset activation)
TRADEWIND_DIFFERS: dict[int, tuple[str, str, dict[str, tuple[str, Any]]]] = {
    12: ("read_asset_event", "success", {"read_asset_event": ("success", None)}),
    13: (
        "read_asset_event_from_classic",
        "success",
        {"read_asset_event_from_classic": ("success", '{"hi": "bye"}')},  # the last event of test-asset
    ),
}


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = wheel("apache_airflow_core-3.")
    folder = tmp_path_factory.mktemp("airflow3-asset-examples")
    with zipfile.ZipFile(path) as archive:
        for name in [*RUNS, *REFUSED]:
            (folder / name).write_bytes(archive.read(f"airflow/example_dags/{name}"))
    return folder


def test_the_asset_examples_import_or_name_what_is_missing(examples: Path) -> None:
    bag = load_dags(examples)
    assert {Path(f).name: e.error for f, e in bag.import_errors.items()}.keys() == REFUSED.keys()
    for filename, error in bag.import_errors.items():
        assert REFUSED[Path(filename).name] in error.error
        assert "docs/airflow-compatibility.md" in error.error
    consumers = {d: bag.get_dag(d).asset_condition for d in bag.dags if bag.get_dag(d).asset_condition}
    assert sorted(consumers) == [
        "asset_alias_example_alias_consumer",
        "asset_alias_example_alias_consumer_with_no_taskflow",
        "asset_consumes_1",
        "asset_consumes_1_and_2",
        "asset_consumes_1_never_scheduled",
        "asset_consumes_unknown_never_scheduled",
        "asset_s3_bucket_consumer",
        "asset_s3_bucket_consumer_with_no_taskflow",
        "conditional_asset_and_time_based_timetable",
        "consume_1_and_2_with_asset_expressions",
        "consume_1_or_2_with_asset_expressions",
        "consume_1_or_both_2_and_3_with_asset_expressions",
        "consumes_asset_decorator",
    ]
    assert bag.get_dag("conditional_asset_and_time_based_timetable").timetable.can_be_scheduled
    assert all(not bag.get_dag(d).import_warnings for d in bag.dags)


def test_the_asset_examples_run_as_in_airflow(examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path / "home"))
    engine = make_engine()
    migrate(engine)  # dags test records the producers' events here, as Airflow's in its database
    bag = load_dags(examples)
    got, expected = [], []
    for index, (dag_id, _, _) in enumerate(AIRFLOW_3_RUNS):
        expected.append(TRADEWIND_DIFFERS.get(index, AIRFLOW_3_RUNS[index]))
        state = run_dag(bag.get_dag(dag_id), io.StringIO(), logical_date=LOGICAL_DATE)
        tasks = {r.task_id: (str(r.state), r.return_value) for r in state.records()}
        got.append((dag_id, str(state.dag_run_state()), tasks))
    assert got == expected
    with session_scope(engine) as session:
        events = [(e["uri"], e["extra"], e["source_dag_id"], e["aliases"]) for e in store_assets.events(session)]
    assert events == [
        ("s3://bucket/my-task", {}, "asset_s3_bucket_producer", []),
        ("s3://bucket/my-task", {}, "asset_alias_example_alias_producer", ["example-alias"]),
        ("s3://bucket/my-task-with-no-taskflow", {}, "asset_s3_bucket_producer_with_no_taskflow", []),
        (
            "s3://bucket/my-task",
            {},
            "asset_alias_example_alias_producer_with_no_taskflow",
            ["example-alias-no-taskflow"],
        ),
        ("s3://output/1.txt", {"hi": "bye"}, "asset_with_extra_by_context", []),
        ("s3://output/1.txt", {"hi": "bye"}, "asset_with_extra_by_yield", []),
        ("s3://output/1.txt", {"hi": "bye"}, "asset_with_extra_from_classic_operator", []),
        ("s3://bucket/asset1_producer", {}, "asset1_producer", []),
        ("s3://bucket/object", {}, "asset2_producer", []),
        ("process_nothing", {}, "consumes_asset_decorator", []),
    ]  # the same events, in the same order, as Airflow 3.3.2 recorded


def test_airflow_2s_dataset_examples_import(tmp_path: Path) -> None:
    path = wheel("apache_airflow-2.")
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.startswith("airflow/example_dags/example_dataset")]
        for name in names:
            (tmp_path / Path(name).name).write_bytes(archive.read(name))
    bag = load_dags(tmp_path)
    assert len(names) == 3 and bag.import_errors == {}
    consumers = sorted(d for d, dag in bag.dags.items() if dag.asset_condition is not None)
    assert len(consumers) == 12 and "conditional_dataset_and_time_based_timetable" in consumers
    assert bag.get_dag("conditional_dataset_and_time_based_timetable").timetable.can_be_scheduled
    assert all(not dag.import_warnings for dag in bag.dags.values())
