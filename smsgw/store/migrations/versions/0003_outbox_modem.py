"""The outbox entry names its modem, so an auto-reply's worker is found without parsing the
event body on every webhook answer.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_outbox") as batch:
        batch.add_column(sa.Column("modem", sa.String(length=64), nullable=True))
    # Existing events take the modem of their message: the one that received an incoming SMS,
    # or the one a status event's message was sent through; both are what the body names.
    # Standalone events (no message) stay NULL, as new ones do.
    op.execute(
        "UPDATE webhook_outbox SET modem = "
        "(SELECT messages.modem FROM messages WHERE messages.pk = webhook_outbox.message_pk) "
        "WHERE message_pk IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("webhook_outbox") as batch:
        batch.drop_column("modem")
