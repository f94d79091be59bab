"""Assets: data-aware scheduling (docs/adr/0012).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

- ``asset``: each asset a task updated, unique by ``name`` and ``uri``, with its ``group`` and
  ``extra``.
- ``asset_alias`` and ``asset_alias_asset``: aliases tasks emitted events through, and the assets
  each resolved to.
- ``asset_event``: one row per update (the source task instance, the event's ``extra``, the alias
  it came through, its time).
- ``asset_dag_run_queue``: per consumer DAG, the assets updated since its last asset-triggered
  run; deleted in the transaction that creates the run that consumes them.
- ``dagrun_asset_event``: the events an asset-triggered run consumed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

_TEXT = 1500
_ID = 250


def upgrade() -> None:
    op.create_table(
        "asset",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(_TEXT), nullable=False),
        sa.Column("uri", sa.String(_TEXT), nullable=False),
        sa.Column("group", sa.String(_TEXT), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_asset"),
        sa.UniqueConstraint("name", "uri", name="uq_asset_name_uri"),
    )
    op.create_table(
        "asset_alias",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(_TEXT), nullable=False),
        sa.Column("group", sa.String(_TEXT), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_asset_alias"),
        sa.UniqueConstraint("name", name="uq_asset_alias_name"),
    )
    op.create_table(
        "asset_alias_asset",
        sa.Column("alias_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alias_id"], ["asset_alias.id"], name="fk_asset_alias_asset_asset_alias", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"], name="fk_asset_alias_asset_asset", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("alias_id", "asset_id", name="pk_asset_alias_asset"),
    )
    op.create_table(
        "asset_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("source_dag_id", sa.String(_ID), nullable=True),
        sa.Column("source_task_id", sa.String(_ID), nullable=True),
        sa.Column("source_run_id", sa.String(_ID), nullable=True),
        sa.Column("source_map_index", sa.Integer(), server_default=sa.text("-1"), nullable=False),
        sa.Column("source_alias", sa.String(_TEXT), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"], name="fk_asset_event_asset", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_asset_event"),
    )
    op.create_index("ix_asset_event_asset_id_timestamp", "asset_event", ["asset_id", "timestamp"])
    op.create_table(
        "asset_dag_run_queue",
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("target_dag_id", sa.String(_ID), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"], name="fk_asset_dag_run_queue_asset", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["target_dag_id"], ["dag.dag_id"], name="fk_asset_dag_run_queue_dag", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("asset_id", "target_dag_id", name="pk_asset_dag_run_queue"),
    )
    op.create_table(
        "dagrun_asset_event",
        sa.Column("dag_id", sa.String(_ID), nullable=False),
        sa.Column("run_id", sa.String(_ID), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_id", "run_id"],
            ["dag_run.dag_id", "dag_run.run_id"],
            name="fk_dagrun_asset_event_dag_run",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["asset_event.id"], name="fk_dagrun_asset_event_asset_event", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("dag_id", "run_id", "event_id", name="pk_dagrun_asset_event"),
    )


def downgrade() -> None:
    for table in ("dagrun_asset_event", "asset_dag_run_queue", "asset_event", "asset_alias_asset", "asset_alias"):
        op.drop_table(table)
    op.drop_table("asset")
