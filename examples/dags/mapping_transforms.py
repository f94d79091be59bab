"""Reshaping task outputs before mapping: XComArg.map, .zip and .concat."""

from datetime import datetime

from tradewind import dag, task


@dag(start_date=datetime(2025, 7, 1), schedule=None, tags=["mapping"])
def mapping_transforms():
    @task
    def names() -> list[str]:
        return ["ann", "bob", "cy"]

    @task
    def ages() -> list[int]:
        return [31, 42]

    @task
    def show(value) -> str:
        return str(value)

    people, years = names(), ages()
    # .map: a function applied to each element when the mapped instance runs.
    show.override(task_id="greet").expand(value=people.map(lambda name: f"hello {name}"))
    # .zip: pairs; the shortest wins, or pad with fillvalue.
    show.override(task_id="zipped").expand(value=people.zip(years))
    show.override(task_id="zipped_longest").expand(value=people.zip(years, fillvalue=None))
    # .concat: one sequence after the other.
    show.override(task_id="chained").expand(value=people.concat(years))


mapping_transforms()
