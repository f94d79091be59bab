"""Dynamic task mapping with TaskFlow: expand, partial + expand, cartesian product, reduce."""

from datetime import datetime

from tradewind import dag, task


@dag(start_date=datetime(2025, 7, 1), schedule=None, tags=["mapping"])
def mapping_taskflow():
    @task
    def add_one(x: int) -> int:
        return x + 1

    @task
    def multiply(x: int, factor: int) -> int:
        return x * factor

    @task
    def pair(letter: str, number: int) -> str:
        return f"{letter}{number}"

    @task
    def total(values) -> int:
        # `values` is a lazy, ordered sequence of the mapped results: len(), iteration, indexing
        print(f"{len(values)} values, first {values[0]}")
        return sum(values)

    total.override(task_id="sum_added")(add_one.expand(x=[1, 2, 3]))
    multiply.partial(factor=10).expand(x=[1, 2, 3])
    # Several mapped arguments: every combination; the last argument varies fastest.
    pair.expand(letter=["a", "b"], number=[1, 2, 3])


mapping_taskflow()
