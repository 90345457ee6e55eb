"""Request bodies are bounded before they are read.

Without this, Starlette reads a whole body into memory when a route asks for it: a 300 MB
POST to the unauthenticated sign-in form grew the daemon to 671 MB. The middleware answers
413 from the declared ``Content-Length`` without reading a byte, and counts the bytes of a
chunked body as they arrive, failing the read as soon as the limit is passed (uvicorn stops
reading from the socket while nobody consumes the body, so nothing piles up meanwhile).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MAX_BODY_BYTES", "BodyLimitMiddleware", "BodyTooLarge"]

#: Far above any legitimate body: a send request is a few hundred bytes (text of at most
#: `limits.max_parts` parts, each ~160 characters, JSON-escaped), a web inbox form less.
MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a body without (or with a lying) Content-Length grows past
    the limit; an HTTPException, so the app's own handler answers it as JSON 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


class BodyLimitMiddleware:
    """413 for any HTTP request whose body exceeds `limit` bytes, before it is buffered."""

    def __init__(self, app: ASGIApp, *, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        valid = declared is not None and declared.isascii() and declared.isdigit()
        if declared is not None and (not valid or int(declared) > self.limit):
            status = 413 if valid else 400
            detail = BodyTooLarge(self.limit).detail if status == 413 else "bad Content-Length"
            # Connection: close, so the server drops the unread body instead of draining it.
            response = JSONResponse(
                {"detail": detail}, status_code=status, headers={"Connection": "close"}
            )
            await response(scope, receive, send)
            return
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, bounded_receive, send)
