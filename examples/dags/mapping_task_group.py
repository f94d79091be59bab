"""A mapped task group: every task inside runs once per element; instance i of a task waits only
for instance i of its upstream in the group, so each element moves on at its own pace."""

from datetime import datetime

from tradewind import dag, task, task_group


@dag(start_date=datetime(2025, 7, 1), schedule=None, tags=["mapping"])
def mapping_task_group():
    @task
    def files() -> list[str]:
        return ["a.json", "b.json", "c.json"]

    @task
    def convert(filename: str) -> str:
        return filename.replace(".json", ".yaml")

    @task
    def stamp(converted: str, suffix: str) -> str:
        return converted + suffix

    @task_group
    def per_file(filename, suffix):
        return stamp(convert(filename), suffix)

    @task
    def collect(values) -> list[str]:
        return list(values)

    collect(per_file.partial(suffix="!").expand(filename=files()))


mapping_task_group()
