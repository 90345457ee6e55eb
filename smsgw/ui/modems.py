"""The modem cards: state, signal history, balance and recent problems of every known modem;
and the USSD box (a code or a menu answer, run through the gateway's USSD sessions)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from smsgw.exceptions import StoreError
from smsgw.gateway.ussd import UssdRefused, UssdSessions
from smsgw.ui import present
from smsgw.ui.pages import PageKit
from smsgw.ui.session import Session

__all__ = ["ModemPages"]


class ModemPages:
    """The modems page and its live fragment (both feed the in-memory signal history)."""

    def __init__(self, kit: PageKit) -> None:
        self.kit = kit

    async def _cards(self) -> list[present.ModemCard]:
        views = await self.kit.gateway.modems()
        self.kit.watch.observe(views)
        return [present.modem_card(view, self.kit.watch) for view in views]

    async def modems(self, request: Request) -> Response:
        session = self.kit.session(request)
        if session is None:
            return self.kit.to_login()
        return await self._page(request, session)

    async def _page(
        self, request: Request, session: Session, *, status_code: int = 200, **ussd: Any
    ) -> Response:
        try:
            cards = await self._cards()
            unread_total = await self.kit.unread_total()
        except StoreError as error:
            return self.kit.unavailable(request, session, error)
        sessions = _sessions(self.kit.gateway)
        local = [card.view.name for card in cards if card.view.node == _node(self.kit.gateway)]
        return self.kit.page(
            "modems.html",
            session,
            status_code=status_code,
            active="modems",
            modems=cards,
            unread_total=unread_total,
            ussd_modems=local if sessions is not None else [],
            **({"ussd": None, "ussd_error": None, "ussd_modem": None} | ussd),
        )

    async def ussd(self, request: Request) -> Response:
        """The USSD box: run a code (or answer the open menu) and show the network's text."""
        checked = await self.kit.checked_post(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        sessions = _sessions(self.kit.gateway)
        modem = form.get("modem")
        if sessions is None:
            return self.kit.problem(session, 404, "USSD is not available here.")
        try:
            result = await sessions.run(
                modem, form.get("code"), session=form.get("session") or None
            )
        except UssdRefused as refused:
            return await self._page(
                request, session, status_code=refused.status_code, ussd_modem=modem,
                ussd_error=refused.detail,
            )  # fmt: skip
        return await self._page(request, session, ussd_modem=modem, ussd=result)

    async def live_modems(self, request: Request) -> Response:
        if self.kit.session(request) is None:
            return self.kit.unauthorised()
        try:
            cards = await self._cards()
        except StoreError:
            return self.kit.fragment_unavailable()
        return self.kit.fragment("_modems.html", modems=cards)


def _sessions(gateway: object) -> UssdSessions | None:
    """The gateway's USSD sessions (a test double may have none)."""
    sessions = getattr(gateway, "ussd", None)
    return sessions if isinstance(sessions, UssdSessions) else None


def _node(gateway: object) -> str | None:
    node = getattr(gateway, "node", None)
    return node if isinstance(node, str) else None
