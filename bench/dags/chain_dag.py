"""A chain of 30 tasks, each starting when the previous one ends: measures the scheduler's
latency from an upstream's end to its downstream's start."""

from datetime import datetime

from tradewind import chain, dag, task


@dag(dag_id="bench_chain", start_date=datetime(2025, 1, 1), schedule=None)
def bench_chain():
    @task
    def step(i: int) -> int:
        return i

    chain(*[step.override(task_id=f"step_{i:02d}")(i) for i in range(30)])


bench_chain()
