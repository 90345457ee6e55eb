"""`create_app(gateway, api_key)`: the REST API `smsgw run` serves (CONTRACT.md §3).

The web inbox is not added here (the API and the inbox are independent of each other);
`smsgw.webapp.create_app` serves both from one application.

Error policy: every error is JSON ``{"detail": ...}``. Client mistakes are 4xx with a
message that says what to fix; the only 5xx on purpose is 503 when the database is
unreachable (StoreError), or /health/ready when the gateway is not ready. Anything else
that escapes a route is a bug: logged with its traceback, answered 500 without internals.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smsgw import __version__, metrics
from smsgw.api import deadletters, optouts, quarantine, ussd
from smsgw.api.accesslog import install_access_log_filter
from smsgw.api.auth import ApiKeyMiddleware
from smsgw.api.docs import add_offline_docs
from smsgw.api.limits import BodyLimitMiddleware
from smsgw.api.routes import router
from smsgw.api.schemas import Liveness, Readiness
from smsgw.exceptions import StoreError, SubmitRefused
from smsgw.gateway import health
from smsgw.gateway.inputs import InvalidInput
from smsgw.gateway.operations import GatewayOperations
from smsgw.gateway.throttle import AuthThrottle

__all__ = ["create_app"]

log = logging.getLogger(__name__)

DESCRIPTION = """\
Send SMS through the gateway's modems and read the message history.

Authenticate every `/api/` call with `X-API-Key: <key>` or `Authorization: Bearer <key>`
(`api.key`, or the key generated in the state directory at first start).
"""


def create_app(
    gateway: GatewayOperations,
    api_key: str | Callable[[], str],
    *,
    throttle: AuthThrottle | None = None,
) -> FastAPI:
    """The REST API over `gateway` (the running `Gateway`, or a test double).

    `api_key` is the key, or how to read it on every request (a changed key then counts at
    once).

    `throttle` counts wrong keys per client (`smsgw.webapp` shares it with the inbox's
    sign-in, so both count a client's wrong keys together)."""
    app = FastAPI(
        title="smsgw",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    throttle = throttle or AuthThrottle()
    app.state.gateway = gateway
    app.include_router(router)
    app.include_router(deadletters.router)
    app.include_router(ussd.router)
    app.include_router(optouts.router)
    app.include_router(quarantine.router)
    add_offline_docs(app, title="smsgw")
    _add_health_routes(app, gateway)
    _add_error_handlers(app)
    app.add_middleware(
        ApiKeyMiddleware,
        expected_key=api_key if callable(api_key) else lambda: api_key,
        throttle=throttle,
        public_metrics=_public_metrics(gateway),
    )
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(RequestMetricsMiddleware)
    install_access_log_filter()
    return app


def _public_metrics(gateway: GatewayOperations) -> bool:
    """`api.public_metrics`; True for a gateway double without settings."""
    settings = getattr(gateway, "settings", None)
    return settings is None or bool(settings.api.public_metrics)


def _add_health_routes(app: FastAPI, gateway: GatewayOperations) -> None:
    @app.get("/health/live", response_model=Liveness, tags=["health"])
    async def live() -> JSONResponse:
        """The process answers HTTP (no dependency checked)."""
        return JSONResponse(health.LIVENESS)

    @app.get(
        "/health/ready",
        response_model=Readiness,
        tags=["health"],
        responses={503: {"model": Readiness, "description": "Not ready; `reason` says why."}},
    )
    async def ready() -> JSONResponse:
        """Ready = the database answers and at least one modem is READY (503 otherwise)."""
        ok, body = await health.readiness(gateway)
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get(
        "/metrics",
        tags=["health"],
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text."}},
    )
    async def prometheus_metrics() -> Response:
        """Prometheus text exposition of smsgw's own registry."""
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default echoes the offending input back; keep only what is printable
        # and safe to JSON-encode whatever the client sent.
        errors = [
            {
                "loc": [str(part) for part in error.get("loc", ())],
                "msg": str(error.get("msg", "invalid")),
                "type": str(error.get("type", "value_error")),
            }
            for error in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(InvalidInput)
    async def _invalid_input(request: Request, exc: InvalidInput) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=422)

    @app.exception_handler(SubmitRefused)
    async def _rejected(request: Request, exc: SubmitRefused) -> JSONResponse:
        status = exc.status_code if 400 <= exc.status_code < 500 else 422
        return JSONResponse({"detail": exc.detail}, status_code=status)

    @app.exception_handler(StoreError)
    async def _store_down(request: Request, exc: StoreError) -> JSONResponse:
        log.error("API %s %s: database error: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": f"database unavailable: {exc}"}, status_code=503)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.error("API %s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"detail": "internal error (logged by the gateway)"}, 500)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetricsMiddleware:
    """Counts answered requests by method, route template (never the raw path) and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            route: BaseRoute | None = scope.get("route")
            template = getattr(route, "path", None) if route is not None else None
            metrics.API_REQUESTS.labels(
                method=scope["method"] if scope["method"] in _METHODS else "other",
                route=template if isinstance(template, str) else "unmatched",
                status=str(status),
            ).inc()
