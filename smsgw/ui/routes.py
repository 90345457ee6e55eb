"""`create_router(gateway, api_key)`: the operator inbox under ``/ui``.

Every page is rendered on the server; the JavaScript only counts characters and parts while
typing, shows times in the browser's time zone and refreshes the live regions by short
polling of ``/ui/live/…`` HTML fragments. Each job has its own module (`signin`,
`conversations`, `modems`, `webhook`, `optouts`, `quarantine`); `pages` holds what they share.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from smsgw.gateway.operations import GatewayOperations
from smsgw.gateway.throttle import AuthThrottle
from smsgw.ui import assets
from smsgw.ui.conversations import Conversations
from smsgw.ui.modems import ModemPages
from smsgw.ui.optouts import OptOutPages
from smsgw.ui.pages import UI_PREFIX, PageKit
from smsgw.ui.quarantine import QuarantinePages
from smsgw.ui.signin import SignIn
from smsgw.ui.watch import ModemWatch
from smsgw.ui.webhook import WebhookPages

__all__ = ["UI_PREFIX", "create_router"]

Handler = Callable[[Request], Awaitable[Response]]


async def static(request: Request) -> Response:
    found = assets.static_file(request.path_params["name"])
    if found is None:
        return Response(status_code=404)
    body, media_type = found
    return Response(
        body,
        media_type=media_type,
        headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"},
    )


def create_router(
    gateway: GatewayOperations,
    api_key: Callable[[], str],
    *,
    watch: ModemWatch | None = None,
    throttle: AuthThrottle | None = None,
) -> APIRouter:
    """The ``/ui`` routes over `gateway`; `api_key` reads the key the operator signs in
    with, `throttle` is shared with the API's key check (`smsgw.webapp` passes both)."""
    kit = PageKit(gateway, api_key, watch=watch)
    signin = SignIn(kit, throttle or AuthThrottle())
    inbox = Conversations(kit)
    modems = ModemPages(kit)
    webhook = WebhookPages(kit)
    optouts = OptOutPages(kit)
    quarantine = QuarantinePages(kit)
    routes: list[tuple[str, Handler, list[str]]] = [
        ("", inbox.home, ["GET"]),
        ("/", inbox.home, ["GET"]),
        ("/login", signin.login_form, ["GET"]),
        ("/login", signin.login, ["POST"]),
        ("/logout", signin.logout, ["POST"]),
        ("/conversations", inbox.conversations, ["GET"]),
        ("/conversations/{peer}", inbox.thread, ["GET"]),
        ("/conversations/{peer}/reply", inbox.reply, ["POST"]),
        ("/modems", modems.modems, ["GET"]),
        ("/modems/ussd", modems.ussd, ["POST"]),
        ("/webhook", webhook.webhook, ["GET"]),
        ("/webhook/dead/{entry_id}/retry", webhook.retry_dead_letter, ["POST"]),
        ("/webhook/waiting/{entry_id}/retry", webhook.retry_waiting, ["POST"]),
        ("/optouts", optouts.optouts, ["GET"]),
        ("/optouts", optouts.add, ["POST"]),
        ("/optouts/{number}/remove", optouts.remove, ["POST"]),
        ("/quarantine", quarantine.quarantine, ["GET"]),
        ("/quarantine/{entry_id}/clear", quarantine.clear, ["POST"]),
        ("/live/conversations", inbox.live_conversations, ["GET"]),
        ("/live/thread/{peer}", inbox.live_thread, ["GET"]),
        ("/live/modems", modems.live_modems, ["GET"]),
        ("/live/webhook", webhook.live_webhook, ["GET"]),
        ("/static/{name}", static, ["GET"]),
    ]
    router = APIRouter(include_in_schema=False)
    for path, handler, methods in routes:
        # Plain Starlette routes: APIRouter's own prefix applies only to API routes.
        router.add_route(UI_PREFIX + path, handler, methods=methods, include_in_schema=False)
    return router
