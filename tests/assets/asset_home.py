"""The store, producer and consumer DAGs of the asset scenario tests: the DAG files are imported
as the loader does and stored as the DAG processor would; the scheduler runs in this process
with the inline executor."""

from __future__ import annotations

from typing import Any

from tests.scheduler.scheduler_home import SchedulerHome

from tradewind.definitions.dag import DAG
from tradewind.store import assets as store_assets
from tradewind.store import queries as q
from tradewind.store.engine import session_scope

PRODUCERS = """
    from airflow.sdk import DAG, Asset, AssetAlias, Metadata, task

    orders, refunds = Asset("s3://shop/orders"), Asset(name="refunds", uri="s3://shop/refunds/")

    with DAG("make_orders", schedule=None):
        @task(outlets=[orders])
        def write_orders(*, outlet_events=None):
            outlet_events[orders].extra["rows"] = 12
            return "orders"

        write_orders()

    with DAG("make_refunds", schedule=None):
        @task(outlets=[refunds])
        def write_refunds():
            yield Metadata(refunds, {"rows": 3})
            return "refunds"

        write_refunds()

    with DAG("make_through_alias", schedule=None):
        @task(outlets=[AssetAlias("daily")])
        def attach(*, outlet_events=None):
            outlet_events[AssetAlias("daily")].add(Asset("s3://shop/daily/2026-11-30"), extra={"day": 30})

        attach()

    with DAG("fails", schedule=None):
        @task(outlets=[orders])
        def broken():
            raise ValueError("no orders today")

        broken()
"""

CONSUMERS = """
    from airflow.sdk import DAG, Asset, AssetAlias, task

    orders, refunds = Asset("s3://shop/orders"), Asset(name="refunds", uri="s3://shop/refunds/")

    def consumer(dag_id, schedule):
        with DAG(dag_id, schedule=schedule) as dag:
            @task
            def read(*, triggering_asset_events=None, dag_run=None):
                seen = {}
                for asset, events in triggering_asset_events.items():
                    shown = [(e.extra, e.source_dag_id, e.source_task_id) for e in events]
                    seen[getattr(asset, "uri", "alias " + asset.name)] = shown
                return {"run_type": dag_run.run_type, "logical_date": dag_run.logical_date, "seen": seen}

            read()
        return dag

    both = consumer("both", [orders, refunds])
    either = consumer("either", orders | refunds)
    only_orders = consumer("only_orders", [orders])
    through_alias = consumer("through_alias", [AssetAlias("daily")])
"""


class Home(SchedulerHome):
    def store(self, name: str, source: str, paused: tuple[str, ...] = ()) -> list[DAG]:
        dags = super().store(name, source, paused)
        assert [dag.import_warnings.messages() for dag in dags] == [[] for _ in dags]
        return dags

    def trigger(self, dag_id: str, run_id: str = "go") -> None:
        self.gateway.create_manual_run(self.gateway.get_dag(dag_id), None, {}, run_id=run_id)

    def runs(self, dag_id: str) -> dict[str, tuple[str, str]]:
        with session_scope(self.engine) as session:
            return {r.run_id: (r.run_type, r.state) for r in q.list_dag_runs(session, dag_id)}

    def returned(self, dag_id: str, run_id: str) -> Any:
        with session_scope(self.engine) as session:
            return {(x.task_id, x.key): x.value for x in q.get_xcoms(session, dag_id, run_id)}[("read", "return_value")]

    def queue(self) -> dict[str, set[tuple[str, str]]]:
        with session_scope(self.engine) as session:
            return {dag_id: set(assets) for dag_id, assets in store_assets.queued(session).items()}

    def events(self) -> list[tuple[str, dict[str, Any], str | None, str | None]]:
        with session_scope(self.engine) as session:
            return [
                (e["uri"], e["extra"], e["source_dag_id"], e["source_run_id"]) for e in store_assets.events(session)
            ]
