"""`create_router(services)`: the operator inbox under ``/ui`` (issue 9).

Every page is rendered on the server; the JavaScript only counts characters and parts while
typing and refreshes the live regions by short polling of ``/ui/live/…`` HTML fragments.
Without a valid session cookie a page answers with the sign-in form (or 401 for fragments)
and nothing else: no conversation, number or modem ever reaches a browser that has not
proved it knows the API key. Nothing rendered here ever contains the API key or the webhook
secret (tests grep every page for both).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from smsgw.api.auth import client_address
from smsgw.api.services import ApiServices, SubmitRejected
from smsgw.api.throttle import AuthThrottle
from smsgw.exceptions import StoreError
from smsgw.pdu import count_parts
from smsgw.store import repository
from smsgw.store.repository import inbox
from smsgw.ui import assets, present
from smsgw.ui.session import COOKIE_NAME, LOGIN_COOKIE_NAME, Session, SessionSigner
from smsgw.ui.watch import ModemWatch

__all__ = ["UI_PREFIX", "create_router"]

log = logging.getLogger(__name__)

UI_PREFIX = "/ui"
#: Slows each wrong sign-in a little more; the per-client throttle (smsgw.api.throttle)
#: is what stops a guessing run.
WRONG_KEY_DELAY = 0.3
MAX_FORM_BYTES = 16 * 1024
MAX_REPLY_CHARS = 2000
DEAD_LETTERS_SHOWN = 50

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

Handler = Callable[[Request], Awaitable[Response]]


class _Form:
    """An urlencoded form body (the UI posts nothing else), size-limited."""

    def __init__(self, fields: Mapping[str, list[str]]) -> None:
        self._fields = fields

    def get(self, name: str) -> str:
        values = self._fields.get(name)
        return values[0] if values else ""

    @classmethod
    async def read(cls, request: Request) -> _Form | None:
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return None
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return cls(urllib.parse.parse_qs(text, keep_blank_values=True))


class InboxUi:
    """The pages; one instance per app, holding the in-memory modem history."""

    def __init__(
        self,
        services: ApiServices,
        *,
        watch: ModemWatch | None = None,
        throttle: AuthThrottle | None = None,
    ) -> None:
        self.services = services
        self.signer = SessionSigner(lambda: services.api_key)
        self.watch = watch or ModemWatch()
        self.throttle = throttle or AuthThrottle()

    # -- session plumbing -------------------------------------------------------------------

    def session(self, request: Request) -> Session | None:
        return self.signer.verify(request.cookies.get(COOKIE_NAME))

    @staticmethod
    def _same_origin(request: Request) -> bool:
        """Refuse cross-site posts outright when the browser says where they come from."""
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            return origin is None
        host = request.headers.get("host", "")
        return urllib.parse.urlsplit(origin).netloc == host

    def _page(
        self,
        template: str,
        request: Request,
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

    def _to_login(self) -> RedirectResponse:
        return RedirectResponse(f"{UI_PREFIX}/login", status_code=303, headers=SECURITY_HEADERS)

    @staticmethod
    def _unauthorised() -> Response:
        return Response(status_code=401, headers=SECURITY_HEADERS)

    def _unavailable(
        self, request: Request, session: Session | None, error: StoreError
    ) -> Response:
        log.error("UI %s: database error: %s", request.url.path, error)
        return self._page("error.html", request, session, status_code=503, problem=str(error))

    # -- sign-in ----------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        if self.session(request) is not None:
            return RedirectResponse(f"{UI_PREFIX}/conversations", status_code=303)
        return self._login_page(request, error=None, status_code=200)

    def _login_page(self, request: Request, *, error: str | None, status_code: int) -> Response:
        token = self.signer.new_login_token()
        response = self._page(
            "login.html", request, None, status_code=status_code, error=error, login_token=token
        )
        response.set_cookie(
            LOGIN_COOKIE_NAME,
            token,
            max_age=600,
            path=UI_PREFIX,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def login(self, request: Request) -> Response:
        form = await _Form.read(request)
        expected_token = request.cookies.get(LOGIN_COOKIE_NAME, "")
        if (
            form is None
            or not self._same_origin(request)
            or not expected_token
            or not secrets.compare_digest(form.get("login_token"), expected_token)
        ):
            return self._login_page(
                request, error="The form expired; please sign in again.", status_code=400
            )
        client = client_address(request.scope)
        wait = self.throttle.retry_after(client)
        if wait is not None:
            refused = self._login_page(
                request, error=f"Too many wrong keys: try again in {wait} s.", status_code=429
            )
            refused.headers["Retry-After"] = str(wait)
            return refused
        if not self.signer.key_matches(form.get("api_key").strip()):
            self.throttle.failed(client, "wrong API key in the web inbox sign-in")
            await asyncio.sleep(WRONG_KEY_DELAY)
            return self._login_page(request, error="Wrong API key.", status_code=401)
        self.throttle.succeeded(client)
        _, cookie = self.signer.issue()
        response = RedirectResponse(
            f"{UI_PREFIX}/conversations", status_code=303, headers=SECURITY_HEADERS
        )
        response.set_cookie(
            COOKIE_NAME,
            cookie,
            max_age=self.signer.max_age,
            path=UI_PREFIX,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        response.delete_cookie(LOGIN_COOKIE_NAME, path=UI_PREFIX)
        return response

    async def logout(self, request: Request) -> Response:
        session = self.session(request)
        form = await _Form.read(request)
        if session is not None and (
            form is None
            or not self._same_origin(request)
            or not self.signer.csrf_matches(session, form.get("csrf"))
        ):
            return Response("Bad request: the form expired.", status_code=400)
        if session is not None:
            self.signer.revoke(session)  # the cookie stops working here, not just in this browser
        response = self._to_login()
        response.delete_cookie(COOKIE_NAME, path=UI_PREFIX)
        return response

    async def _checked_post(self, request: Request) -> tuple[Session, _Form] | Response:
        """The session and form of a state-changing post, or the response refusing it."""
        session = self.session(request)
        if session is None:
            return self._to_login()
        form = await _Form.read(request)
        if (
            form is None
            or not self._same_origin(request)
            or not self.signer.csrf_matches(session, form.get("csrf"))
        ):
            return self._page(
                "error.html",
                request,
                session,
                status_code=403,
                problem="The form expired or came from another site; reload the page.",
            )
        return session, form

    # -- conversations ----------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        if self.session(request) is None:
            return self._to_login()
        return RedirectResponse(f"{UI_PREFIX}/conversations", status_code=303)

    async def conversations(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return self._to_login()
        try:
            listed = await inbox.list_conversations(self.services.db)
        except StoreError as error:
            return self._unavailable(request, session, error)
        return self._page(
            "conversations.html",
            request,
            session,
            active="conversations",
            conversations=present.conversations(listed),
            unread_total=sum(item.unread for item in listed),
        )

    async def live_conversations(self, request: Request) -> Response:
        if self.session(request) is None:
            return self._unauthorised()
        try:
            listed = await inbox.list_conversations(self.services.db)
        except StoreError:
            return Response(status_code=503, headers=SECURITY_HEADERS)
        return self._fragment(
            "_conversation_list.html", conversations=present.conversations(listed)
        )

    def _fragment(self, template: str, **context: Any) -> HTMLResponse:
        return HTMLResponse(
            assets.render(template, prefix=UI_PREFIX, **context), headers=SECURITY_HEADERS
        )

    async def thread(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return self._to_login()
        return await self._thread_page(request, session, peer=request.path_params["peer"])

    async def _thread_page(
        self,
        request: Request,
        session: Session,
        *,
        peer: str,
        draft: str = "",
        error: str | None = None,
        status_code: int = 200,
    ) -> Response:
        try:
            messages = await inbox.thread(self.services.db, peer)
            if not messages:
                return self._page(
                    "error.html",
                    request,
                    session,
                    status_code=404,
                    problem="No conversation with this number.",
                )
            await inbox.mark_read(self.services.db, peer)
            modem = await inbox.last_incoming_modem(self.services.db, peer)
            listed = await inbox.list_conversations(self.services.db)
        except StoreError as error_:
            return self._unavailable(request, session, error_)
        return self._page(
            "thread.html",
            request,
            session,
            status_code=status_code,
            active="conversations",
            peer=peer,
            peer_url=present.peer_path(peer),
            messages=present.bubbles(messages),
            reply_modem=modem,
            can_reply=present.can_reply(peer),
            draft=draft,
            error=error,
            reply_token=secrets.token_urlsafe(12),
            max_parts=self.services.settings.limits.max_parts,
            gsm7_basic=present.GSM7_BASIC_JSON,
            gsm7_extension=present.GSM7_EXTENSION_JSON,
            unread_total=sum(item.unread for item in listed),
        )

    async def live_thread(self, request: Request) -> Response:
        if self.session(request) is None:
            return self._unauthorised()
        peer = request.path_params["peer"]
        try:
            messages = await inbox.thread(self.services.db, peer)
            await inbox.mark_read(self.services.db, peer)  # the operator is looking at it
        except StoreError:
            return Response(status_code=503, headers=SECURITY_HEADERS)
        return self._fragment("_thread_messages.html", messages=present.bubbles(messages))

    async def reply(self, request: Request) -> Response:
        checked = await self._checked_post(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        peer = request.path_params["peer"]
        text = form.get("text").replace("\r\n", "\n")
        problem = self._reply_problem(peer, text)
        if problem is not None:
            return await self._thread_page(
                request, session, peer=peer, draft=text, error=problem, status_code=422
            )
        token = form.get("reply_token")
        try:
            modem = await inbox.last_incoming_modem(self.services.db, peer)
            await self.services.submit(
                to=peer,
                text=text,
                modem=modem,
                delivery_report=True,
                idempotency_key=f"ui:{token}" if token else None,
            )
        except SubmitRejected as rejected:
            return await self._thread_page(
                request, session, peer=peer, draft=text, error=rejected.detail, status_code=422
            )
        except StoreError as error:
            return self._unavailable(request, session, error)
        return RedirectResponse(
            f"{UI_PREFIX}/conversations/{present.peer_path(peer)}#latest",
            status_code=303,
            headers=SECURITY_HEADERS,
        )

    def _reply_problem(self, peer: str, text: str) -> str | None:
        if not present.can_reply(peer):
            return "This sender is a name, not a number: it cannot receive replies."
        if not text.strip():
            return "Write a message first."
        if len(text) > MAX_REPLY_CHARS:
            return f"The message is too long (at most {MAX_REPLY_CHARS} characters)."
        parts = count_parts(text).parts
        limit = self.services.settings.limits.max_parts
        if parts > limit:
            return f"The message needs {parts} SMS; at most {limit} are allowed."
        return None

    # -- modems -----------------------------------------------------------------------------

    async def _modem_cards(self) -> list[present.ModemCard]:
        views = await self.services.modems()
        self.watch.observe(views)
        return [present.modem_card(view, self.watch) for view in views]

    async def modems(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return self._to_login()
        try:
            cards = await self._modem_cards()
            listed = await inbox.list_conversations(self.services.db)
        except StoreError as error:
            return self._unavailable(request, session, error)
        return self._page(
            "modems.html",
            request,
            session,
            active="modems",
            modems=cards,
            unread_total=sum(item.unread for item in listed),
        )

    async def live_modems(self, request: Request) -> Response:
        if self.session(request) is None:
            return self._unauthorised()
        try:
            cards = await self._modem_cards()
        except StoreError:
            return Response(status_code=503, headers=SECURITY_HEADERS)
        return self._fragment("_modems.html", modems=cards)

    # -- webhook ----------------------------------------------------------------------------

    async def _webhook_context(self) -> dict[str, Any]:
        db = self.services.db
        health = await inbox.webhook_health(db)
        counts = await repository.outbox_counts(db)
        dead = await repository.list_dead_letters(db, limit=DEAD_LETTERS_SHOWN)
        return {
            "webhook_url": present.public_url(self.services.settings.webhook.url),
            "health": present.health(health),
            "counts": {state.value: count for state, count in counts.items()},
            "dead_letters": present.dead_letters(dead),
        }

    async def webhook(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return self._to_login()
        try:
            context = await self._webhook_context()
            listed = await inbox.list_conversations(self.services.db)
        except StoreError as error:
            return self._unavailable(request, session, error)
        retried = request.query_params.get("retried")
        return self._page(
            "webhook.html",
            request,
            session,
            active="webhook",
            notice=(
                f"Event {retried} is queued again and will be sent now."
                if retried and retried.isdigit()
                else None
            ),
            unread_total=sum(item.unread for item in listed),
            **context,
        )

    async def live_webhook(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return self._unauthorised()
        try:
            context = await self._webhook_context()
        except StoreError:
            return Response(status_code=503, headers=SECURITY_HEADERS)
        return self._fragment("_webhook.html", csrf=self.signer.csrf_token(session), **context)

    async def retry_dead_letter(self, request: Request) -> Response:
        checked = await self._checked_post(request)
        if isinstance(checked, Response):
            return checked
        session, _ = checked
        raw_id = request.path_params["entry_id"]
        try:
            retried = raw_id.isdigit() and await repository.retry_dead_letter(
                self.services.db, int(raw_id)
            )
        except StoreError as error:
            return self._unavailable(request, session, error)
        if not retried:
            return self._page(
                "error.html",
                request,
                session,
                status_code=404,
                problem="That event is no longer dead-lettered (already retried?).",
            )
        self.services.wake_webhook()
        return RedirectResponse(
            f"{UI_PREFIX}/webhook?retried={raw_id}", status_code=303, headers=SECURITY_HEADERS
        )

    # -- static files -----------------------------------------------------------------------

    async def static(self, request: Request) -> Response:
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
    services: ApiServices,
    *,
    watch: ModemWatch | None = None,
    throttle: AuthThrottle | None = None,
) -> APIRouter:
    """The ``/ui`` routes over `services` (include it in the API's FastAPI app); `throttle`
    is shared with the API's key check, so both count a client's wrong keys together."""
    ui = InboxUi(services, watch=watch, throttle=throttle)
    router = APIRouter(include_in_schema=False)
    routes: list[tuple[str, Handler, list[str]]] = [
        ("", ui.home, ["GET"]),
        ("/", ui.home, ["GET"]),
        ("/login", ui.login_form, ["GET"]),
        ("/login", ui.login, ["POST"]),
        ("/logout", ui.logout, ["POST"]),
        ("/conversations", ui.conversations, ["GET"]),
        ("/conversations/{peer}", ui.thread, ["GET"]),
        ("/conversations/{peer}/reply", ui.reply, ["POST"]),
        ("/modems", ui.modems, ["GET"]),
        ("/webhook", ui.webhook, ["GET"]),
        ("/webhook/dead/{entry_id}/retry", ui.retry_dead_letter, ["POST"]),
        ("/live/conversations", ui.live_conversations, ["GET"]),
        ("/live/thread/{peer}", ui.live_thread, ["GET"]),
        ("/live/modems", ui.live_modems, ["GET"]),
        ("/live/webhook", ui.live_webhook, ["GET"]),
        ("/static/{name}", ui.static, ["GET"]),
    ]
    for path, handler, methods in routes:
        # Plain Starlette routes: APIRouter's own prefix applies only to API routes.
        router.add_route(UI_PREFIX + path, handler, methods=methods, include_in_schema=False)
    return router
