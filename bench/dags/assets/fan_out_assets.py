"""One producer task whose asset N DAGs are scheduled on (N from TRADEWIND_BENCH_N)."""

import os

from airflow.sdk import DAG, Asset, task

orders = Asset("s3://bench/orders")

with DAG("asset_producer", schedule=None):

    @task(outlets=[orders])
    def produce(*, outlet_events=None):
        outlet_events[orders].extra["rows"] = 1

    produce()

for i in range(int(os.environ.get("TRADEWIND_BENCH_N", "10"))):
    with DAG(f"asset_consumer_{i}", schedule=[orders]):

        @task
        def consume(*, triggering_asset_events=None):
            return len(triggering_asset_events[orders])

        consume()
