"""The body limit decides from the declared Content-Length alone, and only ASCII digits are
a length: "²" passes str.isdigit() but not int() (a 500 before), so it is a 400."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import pytest

from smsgw.api.limits import MAX_BODY_BYTES, BodyLimitMiddleware


async def _status(content_length: bytes) -> tuple[int, bool]:
    reached: list[bool] = []
    sent: list[MutableMapping[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(True)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/messages",
        "headers": [(b"content-length", content_length)],
    }
    await BodyLimitMiddleware(app)(scope, receive, send)
    return int(sent[0]["status"]), bool(reached)


@pytest.mark.parametrize(
    ("declared", "status", "reached"),
    [
        (b"10", 204, True),
        (str(MAX_BODY_BYTES + 1).encode(), 413, False),
        (b"\xb2", 400, False),  # latin-1 "²"
        ("١٠".encode(), 400, False),  # Arabic-Indic digits
        (b"-1", 400, False),
    ],
)
async def test_declared_lengths(declared: bytes, status: int, reached: bool) -> None:
    assert await _status(declared) == (status, reached)
