"""The webhook page: delivery health, the outbox, and "retry now" for the events that wait.

Two kinds of event wait for the operator: those whose last attempt failed and that sleep
until their next attempt (the back-off can reach `webhook.backoff_max`), and those given up
on (dead-lettered). Both can be pushed to the dispatcher at once from here, through the same
operations the REST API uses.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from smsgw.exceptions import StoreError
from smsgw.gateway import operations
from smsgw.store import repository
from smsgw.store.repository import inbox
from smsgw.ui import present
from smsgw.ui.pages import PageKit, path_entry_id

__all__ = ["WebhookPages"]

DEAD_LETTERS_SHOWN = 50
WAITING_SHOWN = 50


class WebhookPages:
    """The webhook page, its live fragment and the two retry buttons."""

    def __init__(self, kit: PageKit) -> None:
        self.kit = kit

    async def _context(self) -> dict[str, Any]:
        gateway = self.kit.gateway
        db = gateway.db
        health = await inbox.webhook_health(db)
        counts = await repository.outbox_counts(db)
        waiting = await inbox.list_waiting_events(db, limit=WAITING_SHOWN)
        dead = await repository.list_dead_letters(db, limit=DEAD_LETTERS_SHOWN)
        return {
            "webhook_url": present.public_url(gateway.settings.webhook.url),
            "health": present.health(health),
            "counts": {state.value: count for state, count in counts.items()},
            "waiting": present.waiting_events(waiting),
            "dead_letters": present.dead_letters(dead),
            "mqtt": present.mqtt_link(operations.mqtt_status(gateway)),
        }

    async def webhook(self, request: Request) -> Response:
        session = self.kit.session(request)
        if session is None:
            return self.kit.to_login()
        try:
            context = await self._context()
            unread_total = await self.kit.unread_total()
        except StoreError as error:
            return self.kit.unavailable(request, session, error)
        retried = request.query_params.get("retried")
        return self.kit.page(
            "webhook.html",
            session,
            active="webhook",
            notice=(
                f"Event {retried} is queued again and will be sent now."
                if retried and retried.isascii() and retried.isdigit()
                else None
            ),
            unread_total=unread_total,
            **context,
        )

    async def live_webhook(self, request: Request) -> Response:
        session = self.kit.session(request)
        if session is None:
            return self.kit.unauthorised()
        try:
            context = await self._context()
        except StoreError:
            return self.kit.fragment_unavailable()
        return self.kit.fragment(
            "_webhook.html", csrf=self.kit.signer.csrf_token(session), **context
        )

    async def retry_dead_letter(self, request: Request) -> Response:
        return await self._retry(
            request,
            operations.retry_dead_letter,
            gone="That event is no longer dead-lettered (already retried?).",
        )

    async def retry_waiting(self, request: Request) -> Response:
        return await self._retry(
            request,
            operations.retry_waiting_event,
            gone="That event is no longer waiting (delivered, or being sent right now).",
        )

    async def _retry(
        self, request: Request, retry: operations.RetryOperation, *, gone: str
    ) -> Response:
        checked = await self.kit.checked_post(request)
        if isinstance(checked, Response):
            return checked
        session, _ = checked
        entry_id = path_entry_id(request)
        try:
            retried = entry_id is not None and await retry(self.kit.gateway, entry_id)
        except StoreError as error:
            return self.kit.unavailable(request, session, error)
        if not retried:
            return self.kit.problem(session, 404, gone)
        return self.kit.redirect(f"/webhook?retried={entry_id}")
