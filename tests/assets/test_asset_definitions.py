"""Assets as a DAG file writes them: names and URIs checked and normalised as Airflow 3 does,
conditions built with & and |, and what a DAG stores of its asset schedule and its tasks' outlets."""

from __future__ import annotations

import pytest

from tradewind.definitions.assets import Asset, AssetAlias, AssetAll, AssetAny, Dataset, normalize_uri
from tradewind.definitions.dag import DAG
from tradewind.definitions.operators.empty import EmptyOperator
from tradewind.definitions.serialized import SerializedDAG, serialize_dag
from tradewind.definitions.taskflow import task
from tradewind.errors import DagDefinitionError


@pytest.mark.parametrize(
    ("written", "name", "uri"),
    # observed with Airflow 3.3.2's airflow.sdk.Asset
    [
        ("s3://Bucket/x/", "s3://Bucket/x/", "s3://Bucket/x"),
        ("S3://b/x?b=1&a=2#frag", "S3://b/x?b=1&a=2#frag", "s3://b/x?a=2&b=1"),
        ("file:///tmp/a/", "file:///tmp/a/", "file:///tmp/a"),
        ("foo", "foo", "foo"),
        ("x-my://A/", "x-my://A/", "x-my://A/"),
        ("postgres://u:p@h:5432/db/s/t", "postgres://u:p@h:5432/db/s/t", "postgres://h:5432/db/s/t"),
        ("s3://a", "s3://a", "s3://a/"),
    ],
)
def test_an_asset_uri_is_normalised_as_airflow_does(written: str, name: str, uri: str) -> None:
    asset = Asset(written)
    assert (asset.name, asset.uri, asset.group) == (name, uri, "asset")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"uri": "airflow://x"}, "the scheme 'airflow' is reserved"),
        ({"name": ""}, "Asset name cannot be empty"),
        ({"name": "  "}, "Asset name cannot be just whitespace"),
        ({"name": "self"}, "Asset name 'self' is prohibited"),
        ({"name": 5}, "Asset name must be a string, got 5"),
        ({"name": "x" * 1501}, "Asset name cannot exceed 1500 characters"),
        ({"name": "n", "extra": [1]}, "extra must be a dict"),
    ],
)
def test_what_airflow_refuses_is_refused_with_the_cause(arguments: dict, message: str) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        Asset(**arguments)


def test_asset_needs_a_name_or_a_uri() -> None:
    with pytest.raises(TypeError, match="requires either 'name' or 'uri'"):
        Asset()


def test_a_dataset_is_an_asset_named_by_its_uri_in_group_dataset() -> None:
    dataset = Dataset("s3://shop/orders", extra={"owner": "ana"})
    assert (dataset.name, dataset.uri, dataset.group, dataset.extra) == (
        "s3://shop/orders",
        "s3://shop/orders",
        "dataset",
        {"owner": "ana"},
    )


def test_conditions_compose_with_and_and_or() -> None:
    a, b, c = Asset("a"), Asset("b"), AssetAlias("c")
    condition = a & (b | c)
    assert isinstance(condition, AssetAll) and isinstance(condition.objects[1], AssetAny)
    assert condition.as_node() == {
        "all": [
            {"asset": ["a", "a"], "group": "asset"},
            {"any": [{"asset": ["b", "b"], "group": "asset"}, {"alias": "c"}]},
        ]
    }
    with pytest.raises(DagDefinitionError, match="takes assets, aliases or conditions of them, got 'x'"):
        AssetAny(a, "x")  # type: ignore[arg-type]


def test_a_dag_stores_its_asset_schedule_and_each_tasks_outlets() -> None:
    orders = Asset("s3://shop/orders", extra={"format": "parquet"})
    with DAG("report", schedule=[orders, Dataset("s3://shop/refunds")]) as dag:
        EmptyOperator(task_id="publish", outlets=[Asset("report"), AssetAlias("reports")])

        @task(outlets=[orders])
        def mapped(x: int) -> int:
            return x

        mapped.expand(x=[1, 2])
    data = serialize_dag(dag)
    assert data["schedule"] == "Asset"
    assert data["asset_condition"] == {
        "all": [{"asset": ["s3://shop/orders", "s3://shop/orders"], "group": "asset"},
                {"asset": ["s3://shop/refunds", "s3://shop/refunds"], "group": "dataset"}]
    }  # fmt: skip
    stored = SerializedDAG(data)
    assert [a.key for a in stored.asset_condition.iter_assets()] == [  # type: ignore[union-attr]
        ("s3://shop/orders", "s3://shop/orders"),
        ("s3://shop/refunds", "s3://shop/refunds"),
    ]
    assert stored.task_dict["publish"].outlets == [
        {"asset": ["report", "report"], "group": "asset"},
        {"alias": "reports"},
    ]
    assert stored.task_dict["mapped"].outlets == [
        {"asset": ["s3://shop/orders", "s3://shop/orders"], "group": "asset", "extra": {"format": "parquet"}}
    ]
    assert not stored.timetable.can_be_scheduled  # runs on its assets (or when triggered), never by time
    assert dag.import_warnings.messages() == []


def test_a_dag_without_assets_keeps_its_stored_form() -> None:
    with DAG("plain", schedule=None) as dag:
        EmptyOperator(task_id="t")
    data = serialize_dag(dag)
    assert "asset_condition" not in data and "outlets" not in data["tasks"][0]


def test_outlets_that_are_not_assets_are_kept_out_with_a_warning() -> None:
    # Airflow 3.3 keeps them (lineage) and emits no event for them
    with DAG("lineage", schedule=None) as dag:
        EmptyOperator(task_id="t", outlets=["s3://not-an-asset", Asset("real")], inlets=["x"])
    data = serialize_dag(dag)
    assert data["tasks"][0]["outlets"] == [{"asset": ["real", "real"], "group": "asset"}]
    assert data["warnings"] == [
        "task 't': outlets 's3://not-an-asset' is not an Asset or AssetAlias and is ignored "
        "(tradewind records no lineage)"
    ]


def test_normalize_uri_accepts_a_path_like() -> None:
    from pathlib import PurePosixPath

    assert normalize_uri(PurePosixPath("/data/x")) == "/data/x"


def test_asset_or_time_schedule_runs_by_its_timetable_and_on_its_assets() -> None:
    from tradewind.definitions.assets import AssetOrTimeSchedule
    from tradewind.definitions.timetables import CronTriggerTimetable

    a, b = Asset("s3://dag1/output_1.txt"), Asset("s3://dag2/output_1.txt")
    with DAG(
        "both_ways",
        schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 1 * * 3", timezone="UTC"), assets=a & b),
    ) as dag:
        EmptyOperator(task_id="t")
    stored = SerializedDAG(serialize_dag(dag))
    assert stored.timetable.can_be_scheduled
    assert stored.schedule == f"Asset or {dag.timetable.summary}"
    assert stored.asset_condition is not None
    assert stored.asset_condition.as_node() == (a & b).as_node()
    with pytest.raises(DagDefinitionError, match=r"AssetOrTimeSchedule\(assets=...\) takes an asset"):
        AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 1 * * 3", timezone="UTC"), assets="s3://x")
