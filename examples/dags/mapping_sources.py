"""What can be mapped over: literal lists, tuples and dicts, an upstream's list or dict, and the
output of another mapped task (second-order mapping, where instances that returned None drop out)."""

from datetime import datetime

from tradewind import dag, task


@dag(start_date=datetime(2025, 7, 1), schedule=None, tags=["mapping"])
def mapping_sources():
    @task
    def echo(item):
        return item

    @task
    def settings() -> dict:
        return {"retries": 3, "timeout": 60}

    @task
    def keep_even(x: int):
        return x if x % 2 == 0 else None  # None: no downstream instance for this one

    @task
    def halve(x: int) -> int:
        return x // 2

    echo.override(task_id="from_tuple").expand(item=("a", "b"))
    echo.override(task_id="from_dict").expand(item={"k": "v", "n": 1})  # (key, value) pairs
    echo.override(task_id="from_upstream_dict").expand(item=settings())
    halve.expand(x=keep_even.expand(x=[1, 2, 3, 4]))


mapping_sources()
