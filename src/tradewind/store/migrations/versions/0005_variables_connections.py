"""Variables and Connections.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

- ``variable``: ``key`` (primary key), ``val`` (the text as set; JSON when set so),
  ``description``.
- ``connection``: ``conn_id`` (primary key), ``conn_type``, ``description``, ``host``,
  ``schema``, ``login``, ``password``, ``port``, ``extra`` (JSON text).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "variable",
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("val", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_variable"),
    )
    op.create_table(
        "connection",
        sa.Column("conn_id", sa.String(250), nullable=False),
        sa.Column("conn_type", sa.String(500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("host", sa.String(500), nullable=True),
        sa.Column("schema", sa.String(500), nullable=True),
        sa.Column("login", sa.Text(), nullable=True),
        sa.Column("password", sa.Text(), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("extra", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("conn_id", name="pk_connection"),
    )


def downgrade() -> None:
    op.drop_table("connection")
    op.drop_table("variable")
