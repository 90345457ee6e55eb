"""The example webhook `smsgw demo` runs: the keyword auto-responder of the SMS Gateway
Master examples (../shared/seed), as a small ASGI app on a loopback port.

It does what a user's own webhook should: checks `X-API-Key` and the HMAC `X-Signature`,
answers `incoming_sms` with `{"sms_text": ...}` for a keyword (or an empty 200 for no
reply), and acknowledges `sms_status` events. Every event it accepts is kept in `received`
so the demo can print it and wait for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["DemoWebhook", "ReceivedEvent", "auto_reply"]

PATH = "/sms-webhook"
HELP_REPLY = "Support hours: Mon-Fri 9AM-5PM. Reply URGENT for immediate help."
URGENT_REPLY = "An agent will contact you within 10 minutes."


def auto_reply(message: str) -> str | None:
    """The seed examples' keyword rules, in their order ("help" wins over "urgent")."""
    lowered = message.lower()
    if "help" in lowered:
        return HELP_REPLY
    if "urgent" in lowered:
        return URGENT_REPLY
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """One POST the webhook accepted, and what it answered."""

    payload: dict[str, Any]
    signature_ok: bool
    reply: str | None


class DemoWebhook:
    """The auto-responder app plus a log of what it received."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[ReceivedEvent] = []
        self._answers: dict[str, str | None] = {}  # Idempotency-Key -> reply given
        self._changed = asyncio.Condition()
        self.app = Starlette(routes=[Route(PATH, self._handle, methods=["POST"])])

    async def wait_for(
        self, matches: Callable[[ReceivedEvent], bool], *, start: int = 0
    ) -> ReceivedEvent:
        """The first received event (from index `start`) that `matches`; wrap in a timeout."""
        async with self._changed:
            while True:
                for event in self.received[start:]:
                    if matches(event):
                        return event
                await self._changed.wait()

    def _signature_ok(self, request: Request, body: bytes) -> bool:
        timestamp = request.headers.get("x-timestamp", "")
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(request.headers.get("x-signature", ""), f"sha256={expected}")

    async def _handle(self, request: Request) -> Response:
        if not hmac.compare_digest(request.headers.get("x-api-key", ""), self.secret):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        body = await request.body()
        signature_ok = self._signature_ok(request, body)
        try:
            payload = json.loads(body)
        except ValueError:
            return JSONResponse({"error": "not JSON"}, status_code=400)
        if not isinstance(payload, dict):
            return JSONResponse({"error": "not a JSON object"}, status_code=400)
        # Delivery is at-least-once: a retried event carries the same Idempotency-Key and
        # gets the same answer without being handled (or shown) twice.
        event_key = request.headers.get("idempotency-key")
        if event_key is not None and event_key in self._answers:
            reply = self._answers[event_key]
        else:
            reply = None
            if payload.get("type") == "incoming_sms":
                reply = auto_reply(str(payload.get("message", "")))
            if event_key is not None:
                self._answers[event_key] = reply
            async with self._changed:
                self.received.append(ReceivedEvent(payload, signature_ok, reply))
                self._changed.notify_all()
        if reply is None:
            return Response(status_code=200)
        return JSONResponse({"sms_text": reply})
