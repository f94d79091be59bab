"""The scheduler lease: one active scheduler per database.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

- ``scheduler_lease``: one row per lease (``name``; the scheduler's is ``scheduler``), naming
  its holder (``holder_token``, a random id per scheduler process; ``hostname``, ``pid``,
  ``host_key`` — the machine's boot id and PID namespace, to tell whether ``pid`` can be
  looked up here), when it was taken (``started_at``), last renewed (``renewed_at``) and when it
  lapses unless renewed (``expires_at``). See ``tradewind.store.lease``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder_token", sa.String(64), nullable=False),
        sa.Column("hostname", sa.String(1000), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host_key", sa.String(200), nullable=False),
        sa.Column("started_at", _timestamp(), nullable=False),
        sa.Column("renewed_at", _timestamp(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_scheduler_lease"),
    )


def downgrade() -> None:
    op.drop_table("scheduler_lease")
