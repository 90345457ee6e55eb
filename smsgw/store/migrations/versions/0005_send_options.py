"""Sending options on outgoing messages: `send_at` (a `scheduled` message waits for it),
`validity_s` (TP-VP) and `flash` (message class 0), plus the index the scheduler reads the
next due time from.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("send_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("validity_s", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("flash", sa.Boolean(), nullable=False, server_default="0"))
    op.create_index("ix_messages_schedule", "messages", ["status", "send_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_schedule", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("flash")
        batch.drop_column("validity_s")
        batch.drop_column("send_at")
