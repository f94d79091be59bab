"""``@asset``: a function that materialises an asset is a DAG of one task whose outlet is the
asset; it receives ``self``, ``context`` and its inlet assets by name, and a DAG scheduled on it
runs when it succeeds (under the scheduler)."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest
from asset_home import Home

from tradewind.errors import DagDefinitionError
from tradewind.loader import load_dags
from tradewind.scheduler.dag_test import test_dag as run_dag

SOURCE = """
    from airflow.sdk import Asset, asset, dag, task

    @asset(uri="s3://bucket/raw", schedule=None, tags=["raw"])
    def raw():
        return "raw data"

    @asset(uri="s3://bucket/clean", schedule=raw)
    def clean(self, context, raw, outlet_events):
        outlet_events[self].extra["from"] = raw.uri
        return {"self": [self.name, self.uri], "raw": [raw.name, raw.uri], "run_type": context["dag_run"].run_type}

    @asset.multi(outlets=[Asset("left"), Asset("right")], schedule=None)
    def split():
        return "split"
"""


def test_an_asset_function_is_a_dag_of_one_task_that_updates_the_asset(tmp_path: Path) -> None:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "assets.py").write_text(textwrap.dedent(SOURCE))
    bag = load_dags(folder)
    assert bag.import_errors == {}
    raw, clean, split = bag.get_dag("raw"), bag.get_dag("clean"), bag.get_dag("split")
    assert [t.task_id for t in raw.tasks] == ["raw"] and raw.tags == ["raw"] and raw.asset_condition is None
    assert [(a.name, a.uri) for a in clean.tasks[0].outlets] == [("clean", "s3://bucket/clean")]
    assert [(a.name, a.uri) for a in clean.tasks[0].inlets] == [("raw", "s3://bucket/raw")]
    assert [a.key for a in clean.asset_condition.iter_assets()] == [("raw", "s3://bucket/raw")]  # type: ignore[union-attr]
    assert [a.name for a in split.tasks[0].outlets] == ["left", "right"]

    log = io.StringIO()
    state = run_dag(clean, log)
    [record] = state.records()
    assert (str(record.state), record.return_value) == (
        "success",
        {"self": ["clean", "s3://bucket/clean"], "raw": ["raw", "s3://bucket/raw"], "run_type": "manual"},
    )


def test_a_dag_scheduled_on_an_asset_function_runs_after_it(home: Home) -> None:
    home.store("assets.py", SOURCE)
    home.trigger("raw")
    home.run_scheduler()
    [(run_id, (run_type, state))] = home.runs("clean").items()
    assert (run_type, state) == ("asset_triggered", "success")
    assert home.events()[-1] == ("s3://bucket/clean", {"from": "s3://bucket/raw"}, "clean", run_id)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("@asset(schedule=None)\ndef f(*args): pass", "wildcard '\\*args' is not supported in @asset"),
        ("@asset(schedule=None)\ndef f(**kw): pass", "wildcard '\\*\\*kw' is not supported in @asset"),
        ("@asset.multi(outlets=[], schedule=None)\ndef f(): pass", "no outlets provided"),
    ],
)
def test_what_airflow_refuses_in_an_asset_function_is_refused(source: str, message: str) -> None:
    from tradewind.definitions.asset_decorator import asset
    from tradewind.definitions.assets import Asset

    with pytest.raises(DagDefinitionError, match=message):
        exec(source, {"asset": asset, "Asset": Asset})
