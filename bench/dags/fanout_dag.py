"""The benchmark DAG: generate -> process.expand (one instance per item) -> total.

N comes from the environment so one file serves every size.
"""

import os
from datetime import datetime

from tradewind import dag, task

N = int(os.environ.get("TRADEWIND_BENCH_N", "10"))


@dag(dag_id="bench_fanout", start_date=datetime(2025, 1, 1), schedule=None)
def bench_fanout():
    @task
    def generate():
        return list(range(N))

    @task
    def process(x):
        return x * 2

    @task
    def total(values):
        return sum(values)

    total(process.expand(x=generate()))


bench_fanout()
