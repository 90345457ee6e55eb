"""MQTT is a second event sink with its own delivery state: the events not yet acknowledged
by the broker.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Events already in the outbox are not owed to MQTT: a broker configured today should not
    # receive a backlog of old messages.
    op.create_table(
        "mqtt_outbox",
        sa.Column("event_pk", _BIG_KEY, nullable=False, autoincrement=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claim_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_pk"],
            ["webhook_outbox.pk"],
            name="fk_mqtt_outbox_event_pk_webhook_outbox",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_pk", name="pk_mqtt_outbox"),
    )


def downgrade() -> None:
    op.drop_table("mqtt_outbox")
