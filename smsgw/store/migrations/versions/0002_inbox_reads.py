"""Inbox read markers: how far the operator has read each conversation (unread counts).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: 64-bit keys on PostgreSQL; SQLite only auto-increments a column declared exactly INTEGER.
BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inbox_reads",
        sa.Column("peer", sa.String(length=32), nullable=False),
        sa.Column("last_read_pk", BIG_KEY, nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("peer", name=op.f("pk_inbox_reads")),
    )


def downgrade() -> None:
    op.drop_table("inbox_reads")
