"""The opt-out page: who asked for no more messages, and the operator's edits to the list.

The same list `/api/v1/optouts` edits; a number put here is refused by every send (API,
inbox, MQTT) with 409, and auto-replies to it are dropped.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from smsgw.exceptions import StoreError
from smsgw.gateway.inputs import InvalidInput, normalise_number
from smsgw.store import repository
from smsgw.ui import present
from smsgw.ui.pages import PageKit

__all__ = ["OptOutPages"]

SHOWN = 500


class OptOutPages:
    """The list with an add form, and a remove button per number."""

    def __init__(self, kit: PageKit) -> None:
        self.kit = kit

    async def optouts(self, request: Request, *, notice: str | None = None) -> Response:
        session = self.kit.session(request)
        if session is None:
            return self.kit.to_login()
        try:
            entries = await repository.list_optouts(self.kit.gateway.db, limit=SHOWN)
            unread_total = await self.kit.unread_total()
        except StoreError as error:
            return self.kit.unavailable(request, session, error)
        done = request.query_params.get("done")
        return self.kit.page(
            "optouts.html",
            session,
            active="optouts",
            notice=notice or _notice(done, request.query_params.get("number", "")),
            unread_total=unread_total,
            optouts=[present.optout(entry) for entry in entries],
            enabled=self.kit.gateway.settings.optout.enabled,
        )

    async def add(self, request: Request) -> Response:
        checked = await self.kit.checked_post(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        region = self.kit.gateway.settings.api.default_region
        try:
            number = normalise_number(form.get("number"), region, field="number")
            await repository.add_optout(self.kit.gateway.db, number, source="ui")
        except InvalidInput as invalid:
            return self.kit.problem(session, 422, invalid.detail)
        except StoreError as error:
            return self.kit.unavailable(request, session, error)
        return self.kit.redirect(f"/optouts?done=added&number={number.removeprefix('+')}")

    async def remove(self, request: Request) -> Response:
        checked = await self.kit.checked_post(request)
        if isinstance(checked, Response):
            return checked
        session, _ = checked
        region = self.kit.gateway.settings.api.default_region
        try:
            number = normalise_number(request.path_params["number"], region, field="number")
            removed = await repository.remove_optout(self.kit.gateway.db, number)
        except InvalidInput as invalid:
            return self.kit.problem(session, 422, invalid.detail)
        except StoreError as error:
            return self.kit.unavailable(request, session, error)
        if not removed:
            return self.kit.problem(session, 404, f"{number} is not on the opt-out list.")
        return self.kit.redirect(f"/optouts?done=removed&number={number.removeprefix('+')}")


def _notice(done: str | None, digits: str) -> str | None:
    """The line shown after an edit (the number only when it is plain digits)."""
    number = f"+{digits}" if digits.isascii() and digits.isdigit() else "The number"
    if done == "added":
        return f"{number} is on the opt-out list: sends to it are refused."
    if done == "removed":
        return f"{number} is off the opt-out list."
    return None
