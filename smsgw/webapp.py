"""The one HTTP application `smsgw run` serves: the REST API and, when enabled, the web inbox.

The API and the inbox are siblings that never import each other (both call
`smsgw.gateway.operations`); this module is the only place that puts them side by side, so
the API key middleware, the error handlers and the request metrics cover both.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from smsgw.api.app import create_app as create_api
from smsgw.gateway.operations import GatewayOperations
from smsgw.gateway.throttle import AuthThrottle
from smsgw.ui import create_router as create_ui_router

__all__ = ["create_app"]


def create_app(
    gateway: GatewayOperations,
    api_key: str | Callable[[], str],
    *,
    include_ui: bool | None = None,
    throttle: AuthThrottle | None = None,
) -> FastAPI:
    """The API over `gateway`, plus the operator inbox under /ui when `include_ui` (None
    follows `ui.enabled`).

    `api_key` is the key or how to read it per request; `throttle` counts a client's wrong
    keys across the API and the inbox's sign-in together."""
    read_key = api_key if callable(api_key) else lambda: api_key
    throttle = throttle or AuthThrottle()
    app = create_api(gateway, read_key, throttle=throttle)
    if _ui_enabled(gateway) if include_ui is None else include_ui:
        app.include_router(create_ui_router(gateway, read_key, throttle=throttle))
    return app


def _ui_enabled(gateway: GatewayOperations) -> bool:
    """`ui.enabled`; True for a gateway double without settings (the OpenAPI test's)."""
    settings = getattr(gateway, "settings", None)
    return settings is None or bool(settings.ui.enabled)
