"""/docs that works on an offline Pi: Swagger UI served from the installed package.

FastAPI's default page loads Swagger UI from a CDN, so it is blank without internet. The
`swagger-ui-bundle` package ships the same JavaScript and CSS; they are served from here
under ``/docs/assets/`` (only the three files the page needs, never a path the client picks).
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle  # type: ignore[import-untyped]
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

__all__ = ["ASSETS_PREFIX", "add_offline_docs"]

ASSETS_PREFIX = "/docs/assets"
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def add_offline_docs(app: FastAPI, *, title: str) -> None:
    """Serve the Swagger UI page at /docs for ``app.openapi_url`` (create the app with
    ``docs_url=None`` so FastAPI's CDN page is not registered too)."""
    directory = Path(swagger_ui_bundle.swagger_ui_path)
    openapi_url = app.openapi_url or "/openapi.json"

    async def page(_request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} – API",
            swagger_js_url=f"{ASSETS_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PREFIX}/favicon-32x32.png",
        )

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        media_type = _ASSETS.get(name)
        if media_type is None:
            return Response(status_code=404)
        return FileResponse(
            directory / name, media_type=media_type, headers={"Cache-Control": "max-age=86400"}
        )

    app.add_route("/docs", page, methods=["GET"], include_in_schema=False)
    app.add_route(ASSETS_PREFIX + "/{name}", asset, methods=["GET"], include_in_schema=False)
