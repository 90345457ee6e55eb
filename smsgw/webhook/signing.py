"""Request headers for every webhook POST, and the check a receiving server runs (CONTRACT.md §2).

`X-API-Key` is what SMS Gateway Master sends, so existing servers keep working unchanged.
`X-Signature` adds what a shared key cannot: proof that *this* body was sent *now* by someone
holding the secret. It is `sha256=<hex HMAC-SHA256(secret, "<X-Timestamp>.<raw body>")>`; the
timestamp is inside the MAC so a captured request cannot be replayed outside the tolerance.
The timestamp is fresh on each attempt while body and `Idempotency-Key` stay the same.

Without a secret neither `X-API-Key` nor `X-Signature` is sent (an HMAC keyed with the empty
string would only look like security).

In a receiving Flask app (the raw body, not re-serialised JSON)::

    from smsgw.webhook import verify

    if not verify(SECRET, request.headers, request.get_data()):
        return "", 401
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Iterable
from typing import Protocol

from smsgw import __version__

SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE = 300.0
USER_AGENT = f"smsgw/{__version__}"
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


class HeaderSource(Protocol):
    """Anything with `items()` of (name, value): a dict, Flask/Werkzeug or Starlette headers."""

    def items(self) -> Iterable[tuple[str, str]]: ...


class SignatureError(ValueError):
    """A request failed verification; the message says which check failed."""


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The `X-Signature` value for `body` sent at `timestamp` (unix seconds)."""
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def request_headers(*, body: bytes, event_id: str, secret: str, timestamp: int) -> dict[str, str]:
    """Every header of one POST attempt."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Idempotency-Key": event_id,
        "X-Timestamp": str(timestamp),
    }
    if secret:
        headers["X-API-Key"] = secret
        headers["X-Signature"] = signature(secret, timestamp, body)
    return headers


def check(
    secret: str,
    headers: HeaderSource,
    body: bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Raise `SignatureError` unless `body` was signed with `secret` within `tolerance` seconds.

    `headers` may be a dict, Flask's `request.headers` or Starlette's; names are matched
    case-insensitively. `body` must be the raw bytes received, not re-encoded JSON.
    """
    if not secret:
        raise SignatureError("no secret configured: nothing to verify against")
    lowered = {name.lower(): value for name, value in headers.items()}
    stamp = lowered.get("x-timestamp")
    given = lowered.get("x-signature")
    if stamp is None:
        raise SignatureError("missing X-Timestamp header")
    if given is None:
        raise SignatureError("missing X-Signature header")
    if not _UNIX_SECONDS.fullmatch(stamp):
        raise SignatureError(f"X-Timestamp is not unix seconds: {stamp[:32]!r}")
    sent_at = int(stamp)
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        raise SignatureError(
            f"X-Timestamp {sent_at} is {abs(current - sent_at):.0f}s away from now "
            f"(tolerance {tolerance:.0f}s)"
        )
    if not hmac.compare_digest(signature(secret, stamp, body).encode(), given.encode()):
        raise SignatureError("X-Signature does not match the body")


def verify(
    secret: str,
    headers: HeaderSource,
    body: bytes,
    tolerance: float = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> bool:
    """True when the request is authentic and fresh; see `check` for the reason when not."""
    try:
        check(secret, headers, body, tolerance=tolerance, now=now)
    except SignatureError:
        return False
    return True
