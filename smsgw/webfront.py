"""The ASGI application `smsgw run` hands uvicorn: health answered at once, the rest built on
first use.

FastAPI, Starlette's routing, the API's request models and the web inbox cost about 10 MB of
resident memory, a seventh of what a Pi Zero 2 W can spare for the daemon. Many gateways are
never browsed nor called: they receive SMS, post webhooks and are probed for health. So
/health/live, /health/ready and (when `api.public_metrics` lets anyone read it) /metrics are
answered here, with the same bodies as the API's documented routes, and the full
application (`smsgw.webapp`) is imported and built when the first other request arrives.

That first request waits for the build (a fraction of a second; a few on a slow board), done
in a worker thread so the modems' event loop keeps running meanwhile.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from smsgw import metrics
from smsgw.api.accesslog import install_access_log_filter
from smsgw.gateway import health
from smsgw.gateway.operations import GatewayOperations

__all__ = ["WebFront", "lazy_web_front"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

_JSON = b"application/json"
_INTERNAL_ERROR = json.dumps({"detail": "internal error (logged by the gateway)"}).encode()


class WebFront:
    """The HTTP entry point of the daemon; `build` makes the full application when needed."""

    def __init__(
        self, gateway: health.Probed, build: Callable[[], App], *, public_metrics: bool
    ) -> None:
        self._gateway = gateway
        self._build = build
        self._public_metrics = public_metrics
        self._app: App | None = None
        self._building = asyncio.Lock()
        # The full app installs it too; a probe's query string must not reach the log before.
        install_access_log_filter()

    @property
    def built(self) -> bool:
        """Whether the full application has been needed yet."""
        return self._app is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            try:
                answer = await self._answer_directly(scope["path"])
            except Exception:  # a bug: answered like the API answers its own (logged, 500)
                log.exception("GET %s failed", scope["path"])
                answer = 500, _JSON, _INTERNAL_ERROR
            if answer is not None:
                status, content_type, body = answer
                await _respond(send, status, content_type, body)
                metrics.API_REQUESTS.labels(
                    method="GET", route=scope["path"], status=str(status)
                ).inc()
                return
        try:
            app = await self._full_app()
        except Exception:
            log.exception("the REST API could not be built")
            if scope["type"] == "http":
                await _respond(send, 500, _JSON, _INTERNAL_ERROR)
            return
        await app(scope, receive, send)

    async def _answer_directly(self, path: str) -> tuple[int, bytes, bytes] | None:
        if path == "/health/live":
            return 200, _JSON, json.dumps(health.LIVENESS).encode()
        if path == "/health/ready":
            ok, body = await health.readiness(self._gateway)
            return (200 if ok else 503), _JSON, json.dumps(body).encode()
        if path == "/metrics" and self._public_metrics:
            return 200, metrics.CONTENT_TYPE.encode(), metrics.render()
        return None

    async def _full_app(self) -> App:
        if self._app is None:
            async with self._building:
                if self._app is None:
                    self._app = await asyncio.to_thread(self._build)
                    log.info("REST API and web inbox loaded (first request)")
        return self._app


def lazy_web_front(gateway: GatewayOperations, api_key: str, *, public_metrics: bool) -> WebFront:
    """The daemon's front: `smsgw.webapp` (FastAPI and all it pulls in) is imported only by
    the first request that needs it."""

    def build() -> App:
        from smsgw.webapp import create_app  # here, not at the top: the point is to wait

        app = create_app(gateway, api_key)
        # Like start-up's objects, the app's live as long as the process: keep them out of
        # every later full collection (one pause now instead of one per collection).
        gc.collect()
        gc.freeze()
        return app

    return WebFront(gateway, build, public_metrics=public_metrics)


async def _respond(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
