"""The conversation list, one conversation's thread, and the operator's reply.

A reply passes exactly the checks an API send passes (`smsgw.gateway.operations`): the
number is normalised the same way, and an empty text, a NUL or lone surrogate, a text no SMS
alphabet can carry or one over `limits.max_parts` is refused with the same rules. Only the
wording differs where a person at a form reads it.
"""

from __future__ import annotations

import dataclasses
import secrets

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from smsgw.exceptions import StoreError, SubmitRefused
from smsgw.gateway import operations
from smsgw.gateway.inputs import EmptyText, InvalidInput, TooManyParts
from smsgw.store.repository import inbox
from smsgw.ui import present
from smsgw.ui.pages import SECURITY_HEADERS, UI_PREFIX, PageKit
from smsgw.ui.session import Session

__all__ = ["MAX_REPLY_CHARS", "Conversations"]

#: Bounds the form field before any work is done on it (6 UCS-2 parts are 402 characters).
MAX_REPLY_CHARS = 2000


class Conversations:
    """Pages and live fragments of the inbox itself."""

    def __init__(self, kit: PageKit) -> None:
        self.kit = kit

    async def home(self, request: Request) -> Response:
        if self.kit.session(request) is None:
            return self.kit.to_login()
        return RedirectResponse(f"{UI_PREFIX}/conversations", status_code=303)

    async def conversations(self, request: Request) -> Response:
        session = self.kit.session(request)
        if session is None:
            return self.kit.to_login()
        try:
            listed = await inbox.list_conversations(self.kit.gateway.db)
        except StoreError as error:
            return self.kit.unavailable(request, session, error)
        return self.kit.page(
            "conversations.html",
            session,
            active="conversations",
            conversations=present.conversations(listed),
            unread_total=sum(item.unread for item in listed),
        )

    async def live_conversations(self, request: Request) -> Response:
        if self.kit.session(request) is None:
            return self.kit.unauthorised()
        try:
            listed = await inbox.list_conversations(self.kit.gateway.db)
        except StoreError:
            return self.kit.fragment_unavailable()
        return self.kit.fragment(
            "_conversation_list.html", conversations=present.conversations(listed)
        )

    async def thread(self, request: Request) -> Response:
        session = self.kit.session(request)
        if session is None:
            return self.kit.to_login()
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
        db = self.kit.gateway.db
        try:
            messages = await inbox.thread(db, peer)
            if not messages:
                return self.kit.problem(session, 404, "No conversation with this number.")
            await inbox.mark_read(db, peer)
            modem = await inbox.last_incoming_modem(db, peer)
            unread_total = await self.kit.unread_total()
        except StoreError as error_:
            return self.kit.unavailable(request, session, error_)
        return self.kit.page(
            "thread.html",
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
            max_parts=self.kit.gateway.settings.limits.max_parts,
            gsm7_basic=present.GSM7_BASIC_JSON,
            gsm7_extension=present.GSM7_EXTENSION_JSON,
            unread_total=unread_total,
        )

    async def live_thread(self, request: Request) -> Response:
        if self.kit.session(request) is None:
            return self.kit.unauthorised()
        peer = request.path_params["peer"]
        db = self.kit.gateway.db
        try:
            messages = await inbox.thread(db, peer)
            await inbox.mark_read(db, peer)  # the operator is looking at it
        except StoreError:
            return self.kit.fragment_unavailable()
        return self.kit.fragment("_thread_messages.html", messages=present.bubbles(messages))

    async def reply(self, request: Request) -> Response:
        checked = await self.kit.checked_post(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        peer = request.path_params["peer"]
        text = form.get("text").replace("\r\n", "\n")
        token = form.get("reply_token")
        gateway = self.kit.gateway
        try:
            problem = _form_problem(peer, text)
            if problem is not None:
                raise InvalidInput(problem)
            modem = await inbox.last_incoming_modem(gateway.db, peer)
            outgoing = operations.check_outgoing(gateway.settings, to=peer, text=text, modem=None)
            await operations.send(
                gateway,
                dataclasses.replace(outgoing, modem=modem),
                delivery_report=True,
                idempotency_key=f"ui:{token}" if token else None,
                # An operator answering a conversation is a reply: quiet hours never hold it.
                quiet_hours=False,
            )
        except InvalidInput as invalid:
            return await self._thread_page(
                request, session, peer=peer, draft=text, error=_wording(invalid), status_code=422
            )
        except SubmitRefused as rejected:
            return await self._thread_page(
                request, session, peer=peer, draft=text, error=rejected.detail, status_code=422
            )
        except StoreError as error:
            return self.kit.unavailable(request, session, error)
        return RedirectResponse(
            f"{UI_PREFIX}/conversations/{present.peer_path(peer)}#latest",
            status_code=303,
            headers=SECURITY_HEADERS,
        )


def _form_problem(peer: str, text: str) -> str | None:
    """What only a reply form can get wrong, checked before the shared send checks."""
    if not present.can_reply(peer):
        return "This sender is a name, not a number: it cannot receive replies."
    if len(text) > MAX_REPLY_CHARS:
        return f"The message is too long (at most {MAX_REPLY_CHARS} characters)."
    return None


def _wording(invalid: InvalidInput) -> str:
    """The shared checks' verdict as a person at the form reads it."""
    if isinstance(invalid, EmptyText):
        return "Write a message first."
    if isinstance(invalid, TooManyParts):
        return f"The message needs {invalid.parts} SMS; at most {invalid.limit} are allowed."
    return invalid.detail
