"""Serialized DAG versions, the DAG processor's file cache, and what the scheduler indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

- ``serialized_dag``: one row per version of a DAG's structure, keyed by its hash.
- ``dag``: the newest version (``dag_hash``, ``version_number``), when the row last changed
  (``updated_at``, read by the scheduler to refresh only what changed) and when its next
  scheduled run becomes due (``next_dagrun_create_after``, the scheduler's due-run index).
- ``dag_run.dag_hash``: the version a run was created with and keeps to its end.
- ``dag_file``: per DAG file, the fingerprint and content hash of its last import (the file
  and the files it read), the DAGs it defined and how long the import took.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.String(250)
HASH = sa.String(64)


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "serialized_dag",
        sa.Column("dag_id", ID, nullable=False),
        sa.Column("dag_hash", HASH, nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("fileloc", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("dag_id", "dag_hash", name="pk_serialized_dag"),
    )
    op.create_table(
        "dag_file",
        sa.Column("fileloc", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.JSON(), nullable=False),
        sa.Column("content_hash", HASH, nullable=False),
        sa.Column("dag_ids", sa.JSON(), nullable=False),
        sa.Column("parse_seconds", sa.Float(), nullable=True),
        sa.Column("last_parsed_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("fileloc", name="pk_dag_file"),
    )
    op.add_column("dag", sa.Column("dag_hash", HASH, nullable=True))
    op.add_column("dag", sa.Column("version_number", sa.Integer(), nullable=True))
    op.add_column("dag", sa.Column("updated_at", _timestamp(), nullable=True))
    op.add_column("dag", sa.Column("next_dagrun_create_after", _timestamp(), nullable=True))
    op.create_index("ix_dag_updated_at", "dag", ["updated_at"])
    op.add_column("dag_run", sa.Column("dag_hash", HASH, nullable=True))


def downgrade() -> None:
    op.drop_column("dag_run", "dag_hash")
    op.drop_index("ix_dag_updated_at", table_name="dag")
    for column in ("next_dagrun_create_after", "updated_at", "version_number", "dag_hash"):
        op.drop_column("dag", column)
    op.drop_table("dag_file")
    op.drop_table("serialized_dag")
