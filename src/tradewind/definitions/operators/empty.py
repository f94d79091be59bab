"""EmptyOperator: a task that does nothing, for structure (start/end/join points)."""

from __future__ import annotations

from typing import Any

from tradewind.definitions.baseoperator import BaseOperator


class EmptyOperator(BaseOperator):
    """Does nothing; succeeds at once."""

    ui_color = "#e8f7e4"

    def execute(self, context: dict[str, Any]) -> None:
        return None


# Airflow's deprecated name, still common in DAG files.
DummyOperator = EmptyOperator
