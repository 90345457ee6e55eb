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

from smsgw.gateway.throttle import AuthThrottle, client_address

__all__ = ["ApiKeyMiddleware", "is_protected", "presented_key"]

_BEARER = "bearer "
#: What `api.public_metrics = false` puts behind the key besides /api/.
OBSERVABILITY_PATHS = frozenset({"/metrics", "/docs", "/docs/oauth2-redirect", "/openapi.json"})


def is_protected(path: str, *, public_metrics: bool = True) -> bool:
    if path == "/api" or path.startswith("/api/"):
        return True
    return not public_metrics and (path in OBSERVABILITY_PATHS or path.startswith("/docs/"))


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
    """401 for a protected path without the right key; `expected_key` is read per request.

    A client that keeps sending wrong keys gets 429 with ``Retry-After`` from `throttle`
    (its key is not even compared until the delay has passed).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        expected_key: Callable[[], str],
        throttle: AuthThrottle | None = None,
        public_metrics: bool = True,
    ) -> None:
        self.app = app
        self.expected_key = expected_key
        self.throttle = throttle or AuthThrottle()
        self.public_metrics = public_metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_protected(
            scope["path"], public_metrics=self.public_metrics
        ):
            client = client_address(scope)
            wait = self.throttle.retry_after(client)
            if wait is not None:
                response = JSONResponse(
                    {"detail": f"too many wrong API keys: retry in {wait} s"},
                    status_code=429,
                    headers={"Retry-After": str(wait)},
                )
                await response(scope, receive, send)
                return
            presented = presented_key(Headers(scope=scope))
            if not key_matches(presented, self.expected_key()):
                if presented is not None:
                    self.throttle.failed(client, "wrong API key")
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
            self.throttle.succeeded(client)
        await self.app(scope, receive, send)
