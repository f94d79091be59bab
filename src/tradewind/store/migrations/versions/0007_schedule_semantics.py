"""Schedules: when the DAG processor asks a user's own timetable for its runs again.

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-30

- ``dag_file.refresh_after``: the time the DAG processor imports the file again although it did
  not change, because the runs it precomputed for a user's own ``Timetable`` are running out
  (null: nothing to refresh). See docs/adr/0008.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("dag_file", sa.Column("refresh_after", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dag_file") as batch:
        batch.drop_column("refresh_after")
