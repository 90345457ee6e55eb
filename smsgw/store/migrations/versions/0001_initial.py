"""Initial schema: messages, parts, status history, incoming parts, webhook outbox, limits,
heartbeats.

Written out in full rather than generated from `smsgw.store.schema` at run time, so this
revision keeps creating exactly this schema however the models change later (a test checks
that head matches the metadata).

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: 64-bit keys on PostgreSQL; SQLite only auto-increments a column declared exactly INTEGER.
BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "daily_counters",
        sa.Column("modem", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("modem", "day", name=op.f("pk_daily_counters")),
    )
    op.create_table(
        "messages",
        sa.Column("pk", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("peer", sa.String(length=32), nullable=False),
        sa.Column("modem", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("encoding", sa.String(length=8), nullable=True),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("missing_parts", sa.String(length=1024), nullable=True),
        sa.Column("smsc_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("delivery_report", sa.Boolean(), nullable=False),
        sa.Column("reply_to_pk", BIG_KEY, nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claim_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["reply_to_pk"], ["messages.pk"], name=op.f("fk_messages_reply_to_pk_messages")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_messages")),
        sa.UniqueConstraint("id", name=op.f("uq_messages_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_messages_idempotency_key")),
    )
    op.create_index("ix_messages_conversation", "messages", ["modem", "peer", "pk"], unique=False)
    op.create_index("ix_messages_peer", "messages", ["peer", "pk"], unique=False)
    op.create_index("ix_messages_queue", "messages", ["status", "pk"], unique=False)
    op.create_index(
        "ix_messages_replies", "messages", ["peer", "reply_to_pk", "created_at"], unique=False
    )
    op.create_table(
        "modems",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("info", sa.JSON(), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_modems")),
    )
    op.create_table(
        "nodes",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_nodes")),
    )
    op.create_table(
        "unmatched_status_reports",
        sa.Column("pk", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("modem", sa.String(length=64), nullable=False),
        sa.Column("tp_mr", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("tp_st", sa.Integer(), nullable=False),
        sa.Column("smsc_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("discharge_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_unmatched_status_reports")),
    )
    op.create_table(
        "incoming_parts",
        sa.Column("pk", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("modem", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=32), nullable=False),
        sa.Column("smsc_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("concat_ref", sa.Integer(), nullable=False),
        sa.Column("concat_total", sa.Integer(), nullable=False),
        sa.Column("concat_seq", sa.Integer(), nullable=False),
        sa.Column("text_digest", sa.String(length=64), nullable=False),
        sa.Column("text_utf16", sa.LargeBinary(), nullable=False),
        sa.Column("encoding", sa.String(length=8), nullable=False),
        sa.Column("storage_index", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_pk", BIG_KEY, nullable=True),
        sa.ForeignKeyConstraint(
            ["message_pk"], ["messages.pk"], name=op.f("fk_incoming_parts_message_pk_messages")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_incoming_parts")),
        sa.UniqueConstraint(
            "modem",
            "sender",
            "smsc_timestamp",
            "concat_ref",
            "concat_seq",
            "text_digest",
            name="uq_incoming_parts_identity",
        ),
    )
    op.create_index(
        "ix_incoming_parts_group",
        "incoming_parts",
        ["modem", "sender", "concat_ref", "concat_total", "message_pk"],
        unique=False,
    )
    op.create_index(
        "ix_incoming_parts_pending", "incoming_parts", ["message_pk", "received_at"], unique=False
    )
    op.create_table(
        "message_parts",
        sa.Column("pk", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("message_pk", BIG_KEY, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("modem", sa.String(length=64), nullable=True),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("tp_mr", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tp_st", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_pk"],
            ["messages.pk"],
            name=op.f("fk_message_parts_message_pk_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_message_parts")),
        sa.UniqueConstraint("message_pk", "seq", name=op.f("uq_message_parts_message_pk_seq")),
    )
    op.create_index(
        "ix_message_parts_report_match",
        "message_parts",
        ["modem", "tp_mr", "recipient", "sent_at"],
        unique=False,
    )
    op.create_table(
        "status_events",
        sa.Column("pk", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("message_pk", BIG_KEY, nullable=False),
        sa.Column("part_seq", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_pk"],
            ["messages.pk"],
            name=op.f("fk_status_events_message_pk_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_status_events")),
    )
    op.create_index("ix_status_events_message", "status_events", ["message_pk", "pk"], unique=False)
    op.create_table(
        "suppressed_replies",
        sa.Column("pk", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("modem", sa.String(length=64), nullable=False),
        sa.Column("peer", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("in_reply_to_pk", BIG_KEY, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["in_reply_to_pk"],
            ["messages.pk"],
            name=op.f("fk_suppressed_replies_in_reply_to_pk_messages"),
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_suppressed_replies")),
    )
    op.create_index(
        "ix_suppressed_replies_peer", "suppressed_replies", ["peer", "created_at"], unique=False
    )
    op.create_table(
        "webhook_outbox",
        sa.Column("pk", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("peer", sa.String(length=32), nullable=False),
        sa.Column("message_pk", BIG_KEY, nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claim_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_pk"], ["messages.pk"], name=op.f("fk_webhook_outbox_message_pk_messages")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_webhook_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_webhook_outbox_event_id")),
    )
    op.create_index(
        "ix_webhook_outbox_due", "webhook_outbox", ["state", "next_attempt_at"], unique=False
    )
    op.create_index(
        "ix_webhook_outbox_peer_order", "webhook_outbox", ["state", "peer", "pk"], unique=False
    )


def downgrade() -> None:
    op.drop_table("webhook_outbox")
    op.drop_table("suppressed_replies")
    op.drop_table("status_events")
    op.drop_table("message_parts")
    op.drop_table("incoming_parts")
    op.drop_table("unmatched_status_reports")
    op.drop_table("nodes")
    op.drop_table("modems")
    op.drop_table("messages")
    op.drop_table("daily_counters")
