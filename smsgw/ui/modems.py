"""The modem cards: state, signal history and recent problems of every known modem."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from smsgw.exceptions import StoreError
from smsgw.ui import present
from smsgw.ui.pages import PageKit

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
        try:
            cards = await self._cards()
            unread_total = await self.kit.unread_total()
        except StoreError as error:
            return self.kit.unavailable(request, session, error)
        return self.kit.page(
            "modems.html", session, active="modems", modems=cards, unread_total=unread_total
        )

    async def live_modems(self, request: Request) -> Response:
        if self.kit.session(request) is None:
            return self.kit.unauthorised()
        try:
            cards = await self._cards()
        except StoreError:
            return self.kit.fragment_unavailable()
        return self.kit.fragment("_modems.html", modems=cards)
