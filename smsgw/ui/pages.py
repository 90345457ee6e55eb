"""What every inbox page shares: the session check, the form reader, rendering with the
security headers, and the standard refusals (sign in, 401, 403, 503).

Without a valid session cookie a page answers with the sign-in form (or 401 for fragments)
and nothing else: no conversation, number or modem ever reaches a browser that has not
proved it knows the API key. Nothing rendered here ever contains the API key or the webhook
secret (tests grep every page for both).
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from smsgw.exceptions import StoreError
from smsgw.gateway.operations import GatewayOperations
from smsgw.store.repository import inbox
from smsgw.ui import assets
from smsgw.ui.session import COOKIE_NAME, Session, SessionSigner
from smsgw.ui.watch import ModemWatch

__all__ = ["MAX_FORM_BYTES", "SECURITY_HEADERS", "UI_PREFIX", "Form", "PageKit", "path_entry_id"]

log = logging.getLogger(__name__)

UI_PREFIX = "/ui"
MAX_FORM_BYTES = 16 * 1024

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: with it Chromium sends `Origin: null` on form posts, which the
    # same-origin check below must refuse.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def path_entry_id(request: Request) -> int | None:
    """The `entry_id` in the URL path as the database keys rows (1 to 2**63 - 1), or None.

    ASCII digits only: "²" passes str.isdigit() but int() raises on it."""
    raw = str(request.path_params["entry_id"])
    if not (raw.isascii() and raw.isdigit()):
        return None
    entry_id = int(raw)
    return entry_id if 1 <= entry_id < 2**63 else None


class Form:
    """An urlencoded form body (the UI posts nothing else), size-limited."""

    def __init__(self, fields: Mapping[str, list[str]]) -> None:
        self._fields = fields

    def get(self, name: str) -> str:
        values = self._fields.get(name)
        return values[0] if values else ""

    @classmethod
    async def read(cls, request: Request) -> Form | None:
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return None
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return cls(urllib.parse.parse_qs(text, keep_blank_values=True))


class PageKit:
    """One per app: the gateway, the session signer and the in-memory modem history, plus
    the helpers every page uses."""

    def __init__(
        self,
        gateway: GatewayOperations,
        api_key: Callable[[], str],
        *,
        watch: ModemWatch | None = None,
    ) -> None:
        self.gateway = gateway
        self.signer = SessionSigner(api_key)
        self.watch = watch or ModemWatch()

    def session(self, request: Request) -> Session | None:
        return self.signer.verify(request.cookies.get(COOKIE_NAME))

    @staticmethod
    def same_origin(request: Request) -> bool:
        """Refuse cross-site posts outright when the browser says where they come from."""
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            return origin is None
        host = request.headers.get("host", "")
        return urllib.parse.urlsplit(origin).netloc == host

    def page(
        self,
        template: str,
        session: Session | None,
        *,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        csrf = self.signer.csrf_token(session) if session is not None else ""
        html = assets.render(
            template, prefix=UI_PREFIX, csrf=csrf, signed_in=bool(session), **context
        )
        return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)

    @staticmethod
    def fragment(template: str, **context: Any) -> HTMLResponse:
        return HTMLResponse(
            assets.render(template, prefix=UI_PREFIX, **context), headers=SECURITY_HEADERS
        )

    @staticmethod
    def redirect(path: str) -> RedirectResponse:
        return RedirectResponse(UI_PREFIX + path, status_code=303, headers=SECURITY_HEADERS)

    def to_login(self) -> RedirectResponse:
        return self.redirect("/login")

    @staticmethod
    def unauthorised() -> Response:
        return Response(status_code=401, headers=SECURITY_HEADERS)

    @staticmethod
    def fragment_unavailable() -> Response:
        return Response(status_code=503, headers=SECURITY_HEADERS)

    def problem(self, session: Session | None, status_code: int, problem: str) -> Response:
        return self.page("error.html", session, status_code=status_code, problem=problem)

    def unavailable(self, request: Request, session: Session | None, error: StoreError) -> Response:
        log.error("UI %s: database error: %s", request.url.path, error)
        return self.problem(session, 503, str(error))

    async def checked_post(self, request: Request) -> tuple[Session, Form] | Response:
        """The session and form of a state-changing post, or the response refusing it."""
        session = self.session(request)
        if session is None:
            return self.to_login()
        form = await Form.read(request)
        if (
            form is None
            or not self.same_origin(request)
            or not self.signer.csrf_matches(session, form.get("csrf"))
        ):
            return self.problem(
                session, 403, "The form expired or came from another site; reload the page."
            )
        return session, form

    async def unread_total(self) -> int:
        """For the badge in the navigation bar of every full page."""
        listed = await inbox.list_conversations(self.gateway.db)
        return sum(item.unread for item in listed)
