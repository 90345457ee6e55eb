"""The tables, as SQLAlchemy Core metadata (the migrations are the source of truth for DDL).

Design notes:
- Every table has an integer surrogate key `pk` for joins and ordering; messages also carry the
  public string `id` the API returns. Ordering by `pk` is insertion order, on PostgreSQL across
  every node (one shared sequence), which is what history and paging need.
- Timestamps are stored in UTC (`UtcDateTime`): naive UTC on SQLite, `timestamptz` on
  PostgreSQL, always timezone-aware in Python.
- Work queues (outgoing messages, webhook outbox) carry `claimed_by` / `claim_until` so several
  nodes can share one PostgreSQL with `SELECT … FOR UPDATE SKIP LOCKED` and leases;
  a single SQLite node simply claims with its own node name.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

#: Naming convention so constraint names are deterministic on both engines (migrations rely on it).
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: 64-bit keys on PostgreSQL; SQLite only auto-increments a column declared exactly INTEGER.
BigKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime.datetime]):
    """A timezone-aware datetime stored in UTC on every engine.

    Naive values are refused when binding: a naive time is ambiguous, and a silently wrong
    SMSC timestamp would put messages in the wrong order in the conversation history.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} (store needs timezone-aware)")
        utc = value.astimezone(datetime.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)

    def copy(self, **kw: Any) -> UtcDateTime:
        return UtcDateTime()


def _pk() -> sa.Column[int]:
    return sa.Column("pk", BigKey, primary_key=True, autoincrement=True)


messages = sa.Table(
    "messages",
    metadata,
    _pk(),
    sa.Column("id", sa.String(32), nullable=False, unique=True),
    sa.Column("direction", sa.String(3), nullable=False),  # models.Direction
    sa.Column("peer", sa.String(32), nullable=False),  # E.164 (or alphanumeric sender)
    sa.Column("modem", sa.String(64), nullable=True),  # NULL: outgoing, any modem may send it
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("encoding", sa.String(8), nullable=True),  # gsm7 | ucs2 | 8bit
    sa.Column("parts", sa.Integer(), nullable=False),
    sa.Column("missing_parts", sa.String(1024), nullable=True),  # "2,3" when reassembly timed out
    sa.Column("smsc_timestamp", UtcDateTime(), nullable=True),
    sa.Column("received_at", UtcDateTime(), nullable=True),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.String(16), nullable=True),  # models.MessageStatus; NULL for incoming
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("idempotency_key", sa.String(255), nullable=True, unique=True),
    sa.Column("delivery_report", sa.Boolean(), nullable=False),
    sa.Column("reply_to_pk", BigKey, sa.ForeignKey("messages.pk"), nullable=True),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("claim_until", UtcDateTime(), nullable=True),
    # Sending options (outgoing only): when a `scheduled` message becomes due, TP-VP in
    # seconds (NULL: the SMSC's default) and message class 0.
    sa.Column("send_at", UtcDateTime(), nullable=True),
    sa.Column("validity_s", sa.Integer(), nullable=True),
    sa.Column("flash", sa.Boolean(), nullable=False, server_default="0"),
    sa.Index("ix_messages_conversation", "modem", "peer", "pk"),
    sa.Index("ix_messages_peer", "peer", "pk"),
    sa.Index("ix_messages_queue", "status", "pk"),
    sa.Index("ix_messages_replies", "peer", "reply_to_pk", "created_at"),
    sa.Index("ix_messages_schedule", "status", "send_at"),
    # Retention prunes by age; and deleting a message looks up the replies that point to it.
    sa.Index("ix_messages_created", "created_at"),
    sa.Index("ix_messages_reply_to", "reply_to_pk"),
)

message_parts = sa.Table(
    "message_parts",
    metadata,
    _pk(),
    sa.Column(
        "message_pk", BigKey, sa.ForeignKey("messages.pk", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("seq", sa.Integer(), nullable=False),  # 1-based
    sa.Column("status", sa.String(16), nullable=False),  # types.PartStatus
    sa.Column("modem", sa.String(64), nullable=True),
    sa.Column("recipient", sa.String(32), nullable=False),
    sa.Column("tp_mr", sa.Integer(), nullable=True),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    sa.Column("report_at", UtcDateTime(), nullable=True),
    sa.Column("tp_st", sa.Integer(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.UniqueConstraint("message_pk", "seq"),
    sa.Index("ix_message_parts_report_match", "modem", "tp_mr", "recipient", "sent_at"),
)

status_events = sa.Table(
    "status_events",
    metadata,
    _pk(),
    sa.Column(
        "message_pk", BigKey, sa.ForeignKey("messages.pk", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("part_seq", sa.Integer(), nullable=True),  # NULL: the whole message
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("detail", sa.Text(), nullable=True),
    sa.Index("ix_status_events_message", "message_pk", "pk"),
)

incoming_parts = sa.Table(
    "incoming_parts",
    metadata,
    _pk(),
    sa.Column("modem", sa.String(64), nullable=False),
    sa.Column("sender", sa.String(32), nullable=False),
    sa.Column("smsc_timestamp", UtcDateTime(), nullable=False),
    sa.Column("concat_ref", sa.Integer(), nullable=False),  # 0 for a single-part SMS
    sa.Column("concat_total", sa.Integer(), nullable=False),
    sa.Column("concat_seq", sa.Integer(), nullable=False),
    # SHA-256 of the text: two *different* single SMS from one sender in the same SMSC second
    # must not collapse into one, while a re-read of the same part still does.
    sa.Column("text_digest", sa.String(64), nullable=False),
    # UTF-16-LE with surrogatepass: a UCS-2 part may end in half a surrogate pair that only the
    # next part completes; bytes keep it intact until the parts are joined.
    sa.Column("text_utf16", sa.LargeBinary(), nullable=False),
    sa.Column("encoding", sa.String(8), nullable=False),
    sa.Column("storage_index", sa.Integer(), nullable=True),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("message_pk", BigKey, sa.ForeignKey("messages.pk"), nullable=True),
    sa.UniqueConstraint(
        "modem",
        "sender",
        "smsc_timestamp",
        "concat_ref",
        "concat_seq",
        "text_digest",
        name="uq_incoming_parts_identity",
    ),
    sa.Index(
        "ix_incoming_parts_group", "modem", "sender", "concat_ref", "concat_total", "message_pk"
    ),
    sa.Index("ix_incoming_parts_pending", "message_pk", "received_at"),
)

webhook_outbox = sa.Table(
    "webhook_outbox",
    metadata,
    _pk(),
    sa.Column("event_id", sa.String(128), nullable=False, unique=True),  # Idempotency-Key
    sa.Column("kind", sa.String(16), nullable=False),  # models.WebhookEventKind
    sa.Column("peer", sa.String(32), nullable=False),
    sa.Column("message_pk", BigKey, sa.ForeignKey("messages.pk"), nullable=True),
    # The modem the event is about (received on / sent through), so an auto-reply's worker is
    # found without parsing the body; NULL for events not tied to one.
    sa.Column("modem", sa.String(64), nullable=True),
    sa.Column("body", sa.LargeBinary(), nullable=False),  # frozen at creation
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),  # types.OutboxState
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("delivered_at", UtcDateTime(), nullable=True),
    sa.Column("finished_at", UtcDateTime(), nullable=True),  # left `pending` (any end state)
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("claim_until", UtcDateTime(), nullable=True),
    sa.Index("ix_webhook_outbox_peer_order", "state", "peer", "pk"),
    sa.Index("ix_webhook_outbox_due", "state", "next_attempt_at"),
    # Retention: finished events by age, and the events of a message about to be pruned.
    sa.Index("ix_webhook_outbox_finished", "finished_at"),
    sa.Index("ix_webhook_outbox_message", "message_pk"),
)

suppressed_replies = sa.Table(
    "suppressed_replies",
    metadata,
    _pk(),
    sa.Column("modem", sa.String(64), nullable=False),
    sa.Column("peer", sa.String(32), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("in_reply_to_pk", BigKey, sa.ForeignKey("messages.pk"), nullable=True),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_suppressed_replies_peer", "peer", "created_at"),
    sa.Index("ix_suppressed_replies_reply_to", "in_reply_to_pk"),
)

daily_counters = sa.Table(
    "daily_counters",
    metadata,
    sa.Column("modem", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),  # UTC day
    sa.Column("count", sa.Integer(), nullable=False),
)

unmatched_status_reports = sa.Table(
    "unmatched_status_reports",
    metadata,
    _pk(),
    sa.Column("modem", sa.String(64), nullable=False),
    sa.Column("tp_mr", sa.Integer(), nullable=False),
    sa.Column("recipient", sa.String(32), nullable=False),
    sa.Column("tp_st", sa.Integer(), nullable=False),
    sa.Column("smsc_timestamp", UtcDateTime(), nullable=True),
    sa.Column("discharge_time", UtcDateTime(), nullable=True),
    sa.Column("received_at", UtcDateTime(), nullable=False),
)

nodes = sa.Table(
    "nodes",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("last_seen", UtcDateTime(), nullable=False),
)

modems = sa.Table(
    "modems",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),  # unique across every node
    sa.Column("node", sa.String(64), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("info", sa.JSON(), nullable=False),
    sa.Column("last_seen", UtcDateTime(), nullable=False),
)

#: How far the operator has read each conversation in the inbox: incoming messages of
#: `peer` with a `pk` above `last_read_pk` are unread. One row per peer, shared by every node.
inbox_reads = sa.Table(
    "inbox_reads",
    metadata,
    sa.Column("peer", sa.String(32), primary_key=True),
    sa.Column("last_read_pk", BigKey, nullable=False),
    sa.Column("read_at", UtcDateTime(), nullable=False),
)

#: Events still owed to the MQTT broker: the second sink's own delivery state. A row is added
#: with the `webhook_outbox` row (same transaction) while MQTT is configured, and deleted once
#: the broker acknowledged the publish, so the table holds only what is pending and the
#: webhook's state never waits for the broker (or the reverse). The event's body, kind and
#: modem are read from `webhook_outbox`: one frozen body serves both sinks.
mqtt_outbox = sa.Table(
    "mqtt_outbox",
    metadata,
    sa.Column(
        "event_pk",
        BigKey,
        sa.ForeignKey("webhook_outbox.pk", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("claim_until", UtcDateTime(), nullable=True),
)

#: Numbers that asked for no more messages (STOP), shared by every node. `source` says how
#: the number got here (`sms`: a keyword it sent; `api`, `ui`: an operator), `modem` the SIM
#: it wrote to, when it was a keyword.
optouts = sa.Table(
    "optouts",
    metadata,
    sa.Column("number", sa.String(32), primary_key=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("modem", sa.String(64), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

#: SMS read from a modem that could not be decoded, kept as read (CONTRACT.md §9) so they can
#: leave the SIM instead of filling it. One row per distinct entry: the same PDU read again
#: from the same place (a re-read after a crash between commit and delete) bumps `times_seen`.
#: `storage` and `storage_index` are NULL for a PDU routed directly (+CMT/+CDS).
quarantine = sa.Table(
    "quarantine",
    metadata,
    _pk(),
    sa.Column("modem", sa.String(64), nullable=False),
    sa.Column("storage", sa.String(16), nullable=True),
    sa.Column("storage_index", sa.Integer(), nullable=True),
    sa.Column("pdu_hex", sa.Text(), nullable=False),  # as the modem sent it (bounded)
    sa.Column("pdu_digest", sa.String(64), nullable=False),  # SHA-256 of pdu_hex
    sa.Column("error", sa.Text(), nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    sa.Column("times_seen", sa.Integer(), nullable=False),
    sa.UniqueConstraint(
        "modem", "storage", "storage_index", "pdu_digest", name="uq_quarantine_identity"
    ),
    sa.Index("ix_quarantine_modem", "modem", "pk"),
)

#: Modem alerts that are open now (raised, not yet resolved): one row per modem and alert, so
#: an alert is announced once however often its condition is seen, across restarts and
#: nodes. Resolving deletes the row; the history is in the webhook events themselves.
modem_alerts = sa.Table(
    "modem_alerts",
    metadata,
    sa.Column("modem", sa.String(64), primary_key=True),
    sa.Column("alert", sa.String(32), primary_key=True),  # models.ModemAlertKind
    sa.Column("id", sa.String(32), nullable=False),  # this occurrence, in both its events
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("raised_at", UtcDateTime(), nullable=False),
)
