"""The same patterns written against tradewind's own API: a mapped fan-out and a reduce."""

from datetime import datetime

from tradewind import dag, task


@dag(start_date=datetime(2025, 7, 1), schedule="@daily", catchup=False, tags=["native"])
def native_fan_out(count: int = 5):
    @task
    def generate(n: int) -> list[int]:
        return list(range(n))

    @task(map_index_template="{{ task.op_kwargs['x'] }}")
    def process(x: int) -> int:
        return x * 2

    @task
    def total(values) -> int:
        result = sum(values)
        print(f"Total of {len(values)} values: {result}")
        return result

    total(process.expand(x=generate(count)))


native_fan_out()
