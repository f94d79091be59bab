"""Users of the API and the web UI, and the server's signing secret.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

- ``tw_user``: one row per user: ``username`` (unique), ``password_hash`` (argon2id, in the
  PHC string form argon2-cffi writes), ``role`` (viewer | op | admin), ``created_at``,
  ``password_changed_at`` (tokens issued before it are refused).
- ``server_secret``: named random secrets made once and kept here, so every api-server process
  on the database signs and checks the same tokens (``name`` ``jwt`` is the token key).
See ``tradewind.auth``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tw_user",
        sa.Column("username", sa.String(256), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("password_changed_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("username", name="pk_tw_user"),
    )
    op.create_table(
        "server_secret",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_server_secret"),
    )


def downgrade() -> None:
    op.drop_table("server_secret")
    op.drop_table("tw_user")
