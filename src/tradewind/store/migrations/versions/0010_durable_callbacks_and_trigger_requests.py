"""Durable DAG callbacks and trigger requests: what a scheduler that dies must not lose.

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-30

- ``dag_run.callback_request``: the DAG callback (on_success_callback / on_failure_callback) a
  finished run still owes, written with the run's final state in one transaction and cleared
  once a worker has called it: ``{"success", "reason", "task_id", "map_index"}`` (the reason
  Airflow gives, and the instance whose context the callback gets). Null: none owed. A
  scheduler that starts sends the requests it finds (at least once, as Airflow's callback
  requests).
- ``dag_run.triggered_by``: for a run a ``TriggerDagRunOperator`` created, the try that asked
  for it (``[dag_id, run_id, task_id, map_index, try_number]``). A restarted scheduler that
  applies that try's outcome again finds the run it created, instead of failing the task for a
  run id that is taken or creating the run twice.

Both are added with ALTER TABLE (``dag_run`` is referenced with ON DELETE CASCADE: a table copy
would delete every task instance, see migration 0008); SQLite drops them the same way.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

COLUMNS = ("callback_request", "triggered_by")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("dag_run", sa.Column(name, sa.JSON(), nullable=True))


def downgrade() -> None:
    for name in COLUMNS:
        if op.get_bind().dialect.name == "sqlite":
            op.get_bind().exec_driver_sql(f"ALTER TABLE dag_run DROP COLUMN {name}")
        else:
            op.drop_column("dag_run", name)
