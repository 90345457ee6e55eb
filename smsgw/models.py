"""Plain value types shared across layers (no I/O, no framework types).

Later layers add their own types here only when two or more services need them.
"""

from __future__ import annotations

import enum


class Direction(enum.StrEnum):
    """Which way a message travelled, from the gateway's point of view."""

    IN = "in"
    OUT = "out"


class MessageStatus(enum.StrEnum):
    """Lifecycle of an outgoing message; the last four are the webhook's `sms_status` values."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"
