"""The quarantine page: SMS a modem delivered that could not be decoded, kept as read.

The same entries `/api/v1/quarantine` lists. The operator reads why each failed, may copy
the raw PDU for a bug report, and clears it once dealt with; clearing a modem's last entry
resolves its `quarantined` alert. The PDU and the error come from the SIM and the network:
the template escapes them like every other text.
"""

from __future__ import annotations

import dataclasses

from fastapi import Request
from fastapi.responses import Response

from smsgw.exceptions import StoreError
from smsgw.gateway import operations
from smsgw.store import repository
from smsgw.store.types import QuarantineRecord
from smsgw.ui.pages import PageKit, path_entry_id
from smsgw.ui.present import iso, when

__all__ = ["QuarantinePages", "QuarantineRow"]

SHOWN = 200
#: Longer PDUs are shown cut (a whole SMS-DELIVER is at most 176 octets, 352 hex digits).
PDU_SHOWN = 360


@dataclasses.dataclass(frozen=True, slots=True)
class QuarantineRow:
    id: int
    modem: str
    where: str
    error: str
    pdu_hex: str
    received: str
    received_iso: str
    times_seen: int


def quarantine_row(record: QuarantineRecord) -> QuarantineRow:
    where = (
        f"{record.storage} slot {record.storage_index}"
        if record.storage is not None and record.storage_index is not None
        else "routed (not stored)"
    )
    pdu = record.pdu_hex
    return QuarantineRow(
        id=record.id,
        modem=record.modem,
        where=where,
        error=record.error,
        pdu_hex=pdu if len(pdu) <= PDU_SHOWN else pdu[:PDU_SHOWN] + "…",
        received=when(record.received_at),
        received_iso=iso(record.received_at),
        times_seen=record.times_seen,
    )


class QuarantinePages:
    """The list, newest first, with a clear button per entry."""

    def __init__(self, kit: PageKit) -> None:
        self.kit = kit

    async def quarantine(self, request: Request) -> Response:
        session = self.kit.session(request)
        if session is None:
            return self.kit.to_login()
        try:
            records = await repository.list_quarantine(self.kit.gateway.db, limit=SHOWN)
            unread_total = await self.kit.unread_total()
        except StoreError as error:
            return self.kit.unavailable(request, session, error)
        cleared = request.query_params.get("cleared", "")
        return self.kit.page(
            "quarantine.html",
            session,
            active="quarantine",
            notice=f"Entry {cleared} cleared." if cleared.isascii() and cleared.isdigit() else None,
            unread_total=unread_total,
            entries=[quarantine_row(record) for record in records],
            shown=SHOWN,
        )

    async def clear(self, request: Request) -> Response:
        checked = await self.kit.checked_post(request)
        if isinstance(checked, Response):
            return checked
        session, _ = checked
        entry_id = path_entry_id(request)
        if entry_id is None:
            return self.kit.problem(session, 404, "There is no such quarantine entry.")
        try:
            released = await operations.release_quarantined(self.kit.gateway, entry_id)
        except StoreError as error:
            return self.kit.unavailable(request, session, error)
        if released is None:
            return self.kit.problem(
                session, 404, f"Quarantine entry {entry_id} is already cleared."
            )
        return self.kit.redirect(f"/quarantine?cleared={released.id}")
