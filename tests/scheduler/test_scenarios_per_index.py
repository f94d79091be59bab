"""Branching and short-circuit inside a mapped task group decide per map index, the same under
``dags test`` and the scheduler (the drivers of test_scenarios_both_drivers.py).

Airflow documents this behaviour but does not have it: Airflow 2 skipped every index
(apache/airflow #30883, #48845), Airflow 3.3 runs every branch of every index (#67265).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_scenarios_both_drivers import DRIVERS, Scenario, write_scenario

SCENARIOS = [
    Scenario(
        "branch_per_map_index",
        """
        from tradewind import task_group

        @dag(start_date=datetime(2025, 1, 1), schedule=None)
        def branch_per_map_index():
            @task_group
            def per_item(n):
                @task.branch
                def choose(n):
                    return "per_item.even" if n % 2 == 0 else "per_item.odd"

                @task
                def even(n):
                    return f"{n} is even"

                @task
                def odd(n):
                    return f"{n} is odd"

                choose(n) >> [even(n), odd(n)]

            @task(trigger_rule="none_failed_min_one_success")
            def after():
                return "after"

            per_item.expand(n=[0, 1, 2]) >> after()

        branch_per_map_index()
        """,
        states={
            **{("per_item.choose", i): "success" for i in range(3)},
            ("per_item.even", 0): "success",
            ("per_item.even", 1): "skipped",
            ("per_item.even", 2): "success",
            ("per_item.odd", 0): "skipped",
            ("per_item.odd", 1): "success",
            ("per_item.odd", 2): "skipped",
            ("after", -1): "success",
        },
        run_state="success",
        returns={
            ("per_item.choose", 1): "per_item.odd",  # a mapped branch keeps its return value, as in Airflow 3
            ("per_item.even", 0): "0 is even",
            ("per_item.odd", 1): "1 is odd",
            ("per_item.even", 2): "2 is even",
            ("after", -1): "after",
        },
    ),
    Scenario(
        "short_circuit_per_map_index",
        """
        from tradewind import task_group

        @dag(start_date=datetime(2025, 1, 1), schedule=None)
        def short_circuit_per_map_index():
            @task_group
            def per_item(n):
                @task.short_circuit
                def keep(n):
                    return n != 1

                @task
                def work(n):
                    return n * 10

                @task
                def more(value):
                    return value + 1

                worked = work(n)
                keep(n) >> worked
                return more(worked)

            @task
            def total(values):
                return sorted(values)

            total(per_item.expand(n=[0, 1, 2]))

        short_circuit_per_map_index()
        """,
        states={
            **{("per_item.keep", i): "success" for i in range(3)},
            ("per_item.work", 0): "success",
            ("per_item.work", 1): "skipped",
            ("per_item.work", 2): "success",
            ("per_item.more", 0): "success",
            ("per_item.more", 1): "skipped",
            ("per_item.more", 2): "success",
            ("total", -1): "skipped",  # all_success: one upstream instance was skipped
        },
        run_state="success",
        returns={("per_item.more", 0): 1, ("per_item.more", 2): 21, ("per_item.keep", 1): False},
    ),
]


def cases() -> list[Any]:
    return [
        pytest.param(
            driver, scenario, id=f"{scenario.name}-{driver}", marks=[pytest.mark.slow] * (driver != "dags_test")
        )
        for scenario in SCENARIOS
        for driver in DRIVERS
    ]


@pytest.mark.parametrize(("driver", "scenario"), cases())
def test_per_index_scenario(driver: str, scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dags = write_scenario(tmp_path, scenario, monkeypatch)

    outcome = DRIVERS[driver](dags, scenario, monkeypatch)

    records = outcome.records
    assert {key: str(r.state) if r.state else None for key, r in records.items()} == scenario.states
    assert outcome.run_state == scenario.run_state
    assert {key: records[key].return_value for key in scenario.returns} == scenario.returns
