"""Runs without a logical date: a manual trigger of a DAG written for Airflow 3.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

- ``dag_run.logical_date`` may be null: such a run (``tradewind dags trigger`` without
  ``--logical-date`` for a DAG of an Airflow 3 file) has no logical date and no data interval,
  as in Airflow 3. Run ids stay unique per DAG; any number of runs may have none.
- ``dag_run.run_after``: the time a run may start (a manual run: when it was triggered; a
  scheduled or backfill run: the end of its data interval, or its logical date when the interval
  is empty). Filled in for the runs there are: a manual run's ``queued_at``, otherwise the end of
  its data interval or its logical date.

SQLite cannot drop a NOT NULL constraint in place, and Alembic's batch mode (copy the table,
drop the old one) would delete every task instance and XCom of every run: they reference
``dag_run`` with ``ON DELETE CASCADE`` and the migration runs with foreign keys enforced, in a
transaction where that cannot be switched off. So the constraint is taken out of the table's
stored definition, as SQLite's documentation describes for removing a NOT NULL constraint
(``writable_schema``; the rows on disk are unchanged), and the column is added with ALTER TABLE.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

_NOT_NULL = re.compile(r"(\blogical_date\s+[A-Za-z]+(?:\(\d+\))?)\s+NOT NULL", re.IGNORECASE)


def _sqlite_set_not_null(not_null: bool) -> None:
    """Add or drop NOT NULL on ``dag_run.logical_date`` in SQLite's stored table definition."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'dag_run'").scalar_one()
    if not_null:
        column = re.compile(r"(\blogical_date\s+[A-Za-z]+(?:\(\d+\))?)(?=\s*,)", re.IGNORECASE)
        changed, count = column.subn(r"\1 NOT NULL", sql, count=1)
    else:
        changed, count = _NOT_NULL.subn(r"\1", sql, count=1)
    if count != 1:
        raise RuntimeError(f"migration 0008: cannot find dag_run.logical_date in SQLite's table definition: {sql}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.execute(
            sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'dag_run'"), {"sql": changed}
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _sqlite_set_not_null(False)
        op.get_bind().exec_driver_sql("ALTER TABLE dag_run ADD COLUMN run_after DATETIME")
    else:
        op.alter_column("dag_run", "logical_date", existing_type=sa.DateTime(timezone=True), nullable=True)
        op.add_column("dag_run", sa.Column("run_after", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE dag_run SET run_after = CASE WHEN run_type = 'manual' AND queued_at IS NOT NULL THEN queued_at "
        "ELSE COALESCE(data_interval_end, logical_date) END"
    )


def downgrade() -> None:
    # a run without a logical date gets its trigger time as one (what tradewind gave it before)
    op.execute("UPDATE dag_run SET logical_date = run_after WHERE logical_date IS NULL AND run_after IS NOT NULL")
    op.execute("UPDATE dag_run SET logical_date = queued_at WHERE logical_date IS NULL")
    if op.get_bind().dialect.name == "sqlite":
        op.get_bind().exec_driver_sql("ALTER TABLE dag_run DROP COLUMN run_after")
        _sqlite_set_not_null(True)
    else:
        op.drop_column("dag_run", "run_after")
        op.alter_column("dag_run", "logical_date", existing_type=sa.DateTime(timezone=True), nullable=False)
