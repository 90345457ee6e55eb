"""The send topics: a JSON request in, a result out (pure parsing, bounded).

`<prefix>/send` and `<prefix>/<modem>/send` take `{"to", "text", "id"?, "delivery_report"?}`
plus the API's sending options `"send_at"?`, `"validity"?`, `"flash"?`, `"encoding"?`
(checked by the gateway like an API send's), and, on `<prefix>/send`, an optional
`"modem"`. Anyone who may publish on the broker can send here, so the payload is treated as
hostile: its size is bounded before it is parsed, every field's type is checked, and each
refusal says what was wrong on `<prefix>/send/result` instead of raising.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable

from smsgw.exceptions import SmsgwError

#: Largest request read: 255 parts of UCS-2 text with JSON escapes fit well below it.
MAX_REQUEST_BYTES = 16 * 1024
#: Longest `id` (the idempotency key), as the API's Idempotency-Key.
MAX_ID_CHARS = 200

_KNOWN = frozenset(
    {"to", "text", "id", "delivery_report", "modem", "send_at", "validity", "flash", "encoding"}
)
#: The sending options given as strings; the gateway parses their content.
_TEXT_OPTIONS = ("send_at", "validity", "encoding")
_MAX_OPTION_CHARS = 64


class SendRefused(SmsgwError):
    """A request that will not be queued, with the reason shown on the result topic."""


@dataclasses.dataclass(frozen=True, slots=True)
class SendCommand:
    to: str
    text: str
    request_id: str | None
    delivery_report: bool
    modem: str | None
    send_at: str | None = None
    validity: str | None = None
    flash: bool = False
    encoding: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class SendResult:
    request_id: str | None
    message_id: str | None
    error: str | None

    def payload(self) -> bytes:
        return json.dumps(
            {
                "id": self.request_id,
                "message_id": self.message_id,
                "status": "rejected" if self.error is not None else "queued",
                "error": self.error,
            },
            ensure_ascii=False,
        ).encode()


#: Queues a command like POST /api/v1/messages; returns the message id or raises SendRefused.
Submit = Callable[[SendCommand], Awaitable[str]]


def parse_send(payload: bytes, *, modem: str | None) -> SendCommand:
    """The request in `payload`; SendRefused naming what is wrong. `modem` is the topic's
    modem (`<prefix>/<modem>/send`), which a `"modem"` key may not contradict."""
    if len(payload) > MAX_REQUEST_BYTES:
        raise SendRefused(f"payload of {len(payload)} bytes is over {MAX_REQUEST_BYTES}")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SendRefused("payload is not JSON") from None
    if not isinstance(data, dict):
        raise SendRefused('payload must be a JSON object {"to": ..., "text": ...}')
    unknown = sorted(str(key) for key in data if key not in _KNOWN)
    if unknown:
        raise SendRefused(f"unknown key(s): {', '.join(unknown)[:200]}")
    to, text = data.get("to"), data.get("text")
    if not isinstance(to, str) or not to.strip():
        raise SendRefused('"to" must be a non-empty string')
    if not isinstance(text, str):
        raise SendRefused('"text" must be a string')
    request_id = data.get("id")
    if request_id is not None and (
        not isinstance(request_id, str) or not request_id.strip() or len(request_id) > MAX_ID_CHARS
    ):
        raise SendRefused(f'"id" must be a string of 1 to {MAX_ID_CHARS} non-blank characters')
    delivery_report = data.get("delivery_report", True)
    if not isinstance(delivery_report, bool):
        raise SendRefused('"delivery_report" must be true or false')
    named = data.get("modem")
    if named is not None and not isinstance(named, str):
        raise SendRefused('"modem" must be a string')
    if modem is not None and named is not None and named != modem:
        raise SendRefused(f'"modem" {named[:64]!r} contradicts the topic\'s modem')
    options: dict[str, str] = {}
    for key in _TEXT_OPTIONS:
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > _MAX_OPTION_CHARS:
            raise SendRefused(f'"{key}" must be a string of at most {_MAX_OPTION_CHARS} characters')
        options[key] = value
    flash = data.get("flash", False)
    if not isinstance(flash, bool):
        raise SendRefused('"flash" must be true or false')
    return SendCommand(
        to=to,
        text=text,
        request_id=request_id,
        delivery_report=delivery_report,
        modem=modem if modem is not None else named,
        send_at=options.get("send_at"),
        validity=options.get("validity"),
        flash=flash,
        encoding=options.get("encoding"),
    )


def request_id_of(payload: bytes) -> str | None:
    """The `id` of a request refused before it was parsed, when it can still be read, so the
    client can match the refusal to its request."""
    if len(payload) > MAX_REQUEST_BYTES:
        return None
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and len(value) <= MAX_ID_CHARS else None
