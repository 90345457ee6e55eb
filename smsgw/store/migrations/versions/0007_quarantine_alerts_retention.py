"""Quarantined inbound PDUs, open modem alerts, and the indexes retention prunes by.

The indexes on `messages.reply_to_pk`, `webhook_outbox.message_pk` and
`suppressed_replies.in_reply_to_pk` are what deleting an old message looks up (SQLite checks
every foreign key pointing at a deleted row: without them, a full scan per row).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: 64-bit keys on PostgreSQL; SQLite only auto-increments a column declared exactly INTEGER.
BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_INDEXES = (
    ("ix_messages_created", "messages", ["created_at"]),
    ("ix_messages_reply_to", "messages", ["reply_to_pk"]),
    ("ix_webhook_outbox_finished", "webhook_outbox", ["finished_at"]),
    ("ix_webhook_outbox_message", "webhook_outbox", ["message_pk"]),
    ("ix_suppressed_replies_reply_to", "suppressed_replies", ["in_reply_to_pk"]),
)


def upgrade() -> None:
    op.create_table(
        "quarantine",
        sa.Column("pk", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("modem", sa.String(length=64), nullable=False),
        sa.Column("storage", sa.String(length=16), nullable=True),
        sa.Column("storage_index", sa.Integer(), nullable=True),
        sa.Column("pdu_hex", sa.Text(), nullable=False),
        sa.Column("pdu_digest", sa.String(length=64), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_quarantine")),
        sa.UniqueConstraint(
            "modem", "storage", "storage_index", "pdu_digest", name="uq_quarantine_identity"
        ),
    )
    op.create_index("ix_quarantine_modem", "quarantine", ["modem", "pk"], unique=False)
    op.create_table(
        "modem_alerts",
        sa.Column("modem", sa.String(length=64), nullable=False),
        sa.Column("alert", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("modem", "alert", name=op.f("pk_modem_alerts")),
    )
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_table("modem_alerts")
    op.drop_index("ix_quarantine_modem", table_name="quarantine")
    op.drop_table("quarantine")
