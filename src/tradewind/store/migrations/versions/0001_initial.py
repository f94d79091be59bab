"""The first schema: DAGs, runs, task instances, XComs, import errors and pools.

Revision ID: 0001
Revises:
Create Date: 2025-07-01

Types are spelled out here (not imported from the models) so that this revision keeps building
the same tables whatever the models become later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.String(250)
STATE = sa.String(20)


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dag",
        sa.Column("dag_id", ID, nullable=False),
        sa.Column("fileloc", sa.Text(), nullable=False),
        sa.Column("is_paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("schedule", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("serialized", sa.JSON(), nullable=True),
        sa.Column("max_active_runs", sa.Integer(), server_default=sa.text("16"), nullable=False),
        sa.Column("next_dagrun", _timestamp(), nullable=True),
        sa.Column("next_dagrun_data_interval_start", _timestamp(), nullable=True),
        sa.Column("next_dagrun_data_interval_end", _timestamp(), nullable=True),
        sa.Column("last_parsed_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("dag_id", name="pk_dag"),
    )
    op.create_table(
        "dag_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dag_id", ID, nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("logical_date", _timestamp(), nullable=False),
        sa.Column("data_interval_start", _timestamp(), nullable=True),
        sa.Column("data_interval_end", _timestamp(), nullable=True),
        sa.Column("run_type", STATE, nullable=False),
        sa.Column("conf", sa.JSON(), nullable=False),
        sa.Column("state", STATE, nullable=False),
        sa.Column("queued_at", _timestamp(), nullable=True),
        sa.Column("start_date", _timestamp(), nullable=True),
        sa.Column("end_date", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dag_run"),
        sa.UniqueConstraint("dag_id", "run_id", name="uq_dag_run_dag_id_run_id"),
        sa.ForeignKeyConstraint(["dag_id"], ["dag.dag_id"], name="fk_dag_run_dag", ondelete="CASCADE"),
    )
    op.create_index("ix_dag_run_dag_id_state", "dag_run", ["dag_id", "state"])
    op.create_table(
        "task_instance",
        sa.Column("dag_id", ID, nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("task_id", ID, nullable=False),
        sa.Column("map_index", sa.Integer(), server_default=sa.text("-1"), nullable=False),
        sa.Column("try_number", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("max_tries", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("state", STATE, nullable=True),
        sa.Column("start_date", _timestamp(), nullable=True),
        sa.Column("end_date", _timestamp(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("hostname", sa.String(1000), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("rendered_map_index", sa.Text(), nullable=True),
        sa.Column("queued_at", _timestamp(), nullable=True),
        sa.Column("heartbeat_at", _timestamp(), nullable=True),
        sa.Column("next_retry_at", _timestamp(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("dag_id", "run_id", "task_id", "map_index", name="pk_task_instance"),
        sa.ForeignKeyConstraint(
            ["dag_id", "run_id"],
            ["dag_run.dag_id", "dag_run.run_id"],
            name="fk_task_instance_dag_run",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_task_instance_dag_id_run_id_state", "task_instance", ["dag_id", "run_id", "state"])
    op.create_table(
        "xcom",
        sa.Column("dag_id", ID, nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("task_id", ID, nullable=False),
        sa.Column("map_index", sa.Integer(), server_default=sa.text("-1"), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("dag_id", "run_id", "task_id", "map_index", "key", name="pk_xcom"),
        sa.ForeignKeyConstraint(
            ["dag_id", "run_id", "task_id", "map_index"],
            ["task_instance.dag_id", "task_instance.run_id", "task_instance.task_id", "task_instance.map_index"],
            name="fk_xcom_task_instance",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "import_error",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("timestamp", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_import_error"),
    )
    slot_pool = op.create_table(
        "slot_pool",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_slot_pool"),
    )
    op.bulk_insert(
        slot_pool,
        [{"name": "default_pool", "slots": 128, "description": "Default pool"}],
    )


def downgrade() -> None:
    op.drop_table("slot_pool")
    op.drop_table("import_error")
    op.drop_table("xcom")
    op.drop_index("ix_task_instance_dag_id_run_id_state", table_name="task_instance")
    op.drop_table("task_instance")
    op.drop_index("ix_dag_run_dag_id_state", table_name="dag_run")
    op.drop_table("dag_run")
    op.drop_table("dag")
