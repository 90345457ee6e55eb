"""API key check for every ``/api/`` route, before anything else looks at the request.

Done as ASGI middleware rather than a FastAPI dependency so that an unauthenticated client
learns nothing at all (not even whether its JSON body would have validated: dependencies run
after body parsing). The key is compared in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ApiKeyMiddleware", "is_protected", "presented_key"]

_BEARER = "bearer "


def is_protected(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def presented_key(headers: Headers) -> str | None:
    """The key from `X-API-Key`, else from `Authorization: Bearer <key>`."""
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    authorization = headers.get("authorization", "")
    if authorization[: len(_BEARER)].lower() == _BEARER:
        return authorization[len(_BEARER) :].strip()
    return None


def key_matches(presented: str | None, expected: str) -> bool:
    if not presented or not expected:
        return False
    # Header values arrive latin-1 decoded; UTF-8 bytes are comparable whatever they hold.
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


class ApiKeyMiddleware:
    """401 for a protected path without the right key; `expected_key` is read per request."""

    def __init__(self, app: ASGIApp, *, expected_key: Callable[[], str]) -> None:
        self.app = app
        self.expected_key = expected_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_protected(scope["path"]):
            presented = presented_key(Headers(scope=scope))
            if not key_matches(presented, self.expected_key()):
                detail = (
                    "missing API key: send X-API-Key: <key> or Authorization: Bearer <key>"
                    if presented is None
                    else "wrong API key"
                )
                response = JSONResponse(
                    {"detail": detail},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="smsgw"'},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
