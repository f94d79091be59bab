from __future__ import annotations

import json
from datetime import datetime

from tradewind import DAG, task, task_group
from tradewind.loader.serialize import serialize_dag


def test_serialized_dag_is_plain_json_with_tasks_in_dependency_order() -> None:
    with DAG("s", start_date=datetime(2025, 1, 1), schedule="@daily", tags=["t"]) as dag:

        @task
        def a():
            return [1]

        @task
        def b(x):
            return x

        @task_group
        def g(x):
            return b(x)

        g.expand(x=a())
    data = json.loads(json.dumps(serialize_dag(dag)))
    assert data["schedule"] == "@daily" and data["tags"] == ["t"]
    assert [(t["task_id"], t["mapped"], t["upstream"]) for t in data["tasks"]] == [
        ("a", False, []),
        ("g.b", True, ["a"]),
    ]
