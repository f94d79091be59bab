"""The asset condition of a consumer DAG, evaluated over the assets queued for it (a table, as
tests/scheduler/test_trigger_rules.py)."""

from __future__ import annotations

import pytest

from tradewind.definitions.assets import Asset, AssetAlias, AssetAll, AssetAny, BaseAsset, asset_condition, read_node
from tradewind.scheduler.assets import evaluate, referenced

A, B, C = Asset("s3://a/x"), Asset("s3://b/x"), Asset(name="c", uri="s3://c/x")
ALIAS = AssetAlias("daily")
a, b, c = A.key, B.key, C.key
d = ("s3://d/2026", "s3://d/2026")  # an asset the alias resolved to


@pytest.mark.parametrize(
    ("condition", "updated", "holds"),
    [
        (A, set(), False),
        (A, {a}, True),
        (A, {b}, False),
        (asset_condition([A, B]), {a}, False),  # a list means all of them
        (asset_condition([A, B]), {a, b}, True),
        (A & B, {b}, False),
        (A | B, {b}, True),
        (A | B, set(), False),
        (A & (B | C), {a, c}, True),
        (A & (B | C), {b, c}, False),
        ((A & B) | C, {c}, True),
        ((A & B) | C, {a}, False),
        (AssetAny(A, AssetAll(B, C)), {b, c}, True),
        (ALIAS, {d}, True),  # an alias holds when an asset it resolved to was updated
        (ALIAS, {a}, False),
        (A & ALIAS, {a, d}, True),
        (A & ALIAS, {d}, False),
    ],
)
def test_a_condition_holds_over_the_updated_assets(condition: BaseAsset, updated: set, holds: bool) -> None:
    aliases = {"daily": {d}}
    assert evaluate(condition, updated, aliases) is holds
    # the scheduler evaluates the stored form: the same answer
    assert evaluate(read_node(condition.as_node()), updated, aliases) is holds


def test_an_alias_that_resolved_to_nothing_does_not_hold() -> None:
    assert evaluate(ALIAS, {a, b}, {}) is False


def test_referenced_names_every_asset_and_alias_of_a_condition() -> None:
    assert referenced(A & (B | ALIAS)) == ({a, b}, {"daily"})
