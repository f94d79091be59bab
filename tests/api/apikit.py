"""Helpers of the API tests: the DAG files they use, and the handle on a built store and app."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tradewind.executors.local import LocalExecutor, task_log_path
from tradewind.processor import DagProcessor
from tradewind.scheduler.loop import Scheduler
from tradewind.scheduler.persistence import StoreGateway

REPO = Path(__file__).parents[2]

API_DAG = """
    import os
    from datetime import datetime
    from tradewind import DAG, Param, task

    with open(__file__ + ".imported-by", "a") as marker:  # who imports this file
        marker.write(f"{os.getpid()}\\n")

    with DAG("api_dag", start_date=datetime(2025, 1, 1), schedule=None, tags=["api", "demo"],
             params={"n": Param(3, type="integer", description="how many")}):
        @task
        def numbers():
            return [0, 1, 2]

        @task(map_index_template="item {{ task.op_kwargs['x'] }}")
        def check(x):
            print(f"checking {x}")
            if x == 1:
                raise ValueError("one is odd")
            return x * 10

        check.expand(x=numbers())
"""

BROKEN = "from airflow import DAG\nimport nothing_here_at_all\n"  # names DAG: safe mode imports it


@dataclass
class Api:
    client: TestClient
    engine: Engine
    home: Path
    logs: Path
    dags: Path
    tokens: dict[str, str]

    def headers(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, path: str, role: str = "admin", **kwargs: object) -> object:
        return self.client.get(path, headers=self.headers(role), **kwargs)  # type: ignore[arg-type]

    def run_scheduler(self) -> None:
        gateway = StoreGateway(self.engine)
        processor = DagProcessor(self.dags, self.engine)
        scheduler = Scheduler(
            gateway, LocalExecutor(parallelism=1), processor=processor, log=io.StringIO(), log_path=task_log_path
        )
        scheduler.run(until_idle=True)
