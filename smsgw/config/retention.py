"""`[retention]`: how long history is kept before the daemon prunes it (0: for ever).

A Raspberry Pi's SD card is small and a busy gateway writes every SMS, every status change
and every webhook event: without a limit the database only grows.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from smsgw.config.durations import Duration

__all__ = ["RetentionSection"]


class RetentionSection(BaseModel):
    """`[retention]`: ages after which rows are pruned, in small batches; 0 keeps them."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)

    messages: Duration = Field(
        default=timedelta(days=365),
        description="Messages (both directions, with their parts and status history) older "
        'than this are deleted; scheduled, queued or sending ones never. "0": keep for ever.',
    )
    events: Duration = Field(
        default=timedelta(days=30),
        description="Webhook events delivered, dead-lettered or dropped longer ago than this "
        'are deleted; pending ones never. "0": keep for ever.',
    )
