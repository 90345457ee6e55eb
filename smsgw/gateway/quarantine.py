"""Inbound SMS that cannot be decoded: kept aside, then off the SIM (CONTRACT.md §9).

Real SIMs receive PDUs no decoder takes (operator WAP pushes, class-2 data, broken SMSCs).
Left in modem storage they are offered again at every sweep and, once enough of them
arrived, fill it: the network then holds every later SMS back while the modem still looks
healthy. So each one is stored as it was read (modem, storage, index, raw hex, the
decoder's complaint) and, like a good message, deleted from the modem only after that
commit (`Quarantine.keep` returns normally; a failure raises and the entry stays on the SIM
for the next sweep). The same commit opens the modem's `quarantined` alert if it is not open
(`smsgw.gateway.alerts`); the operator lists the entries (`GET /api/v1/quarantine`,
`smsgw quarantine list`) and clears them (`DELETE /api/v1/quarantine/{id}`), and clearing the
modem's last one resolves the alert.

The raw data is hostile input: it is bounded before it is stored and shown with `repr` in
log lines, so a "PDU" of control characters cannot forge or repaint a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from smsgw.gateway import telemetry
from smsgw.gateway.render import render_alert
from smsgw.modem import UndecodablePdu
from smsgw.store import Database, repository
from smsgw.store.types import QuarantineItem, QuarantineRecord

__all__ = ["MAX_ERROR", "MAX_PDU_TEXT", "Quarantine", "bounded"]

log = logging.getLogger(__name__)

#: The longest PDU line kept. A real one is at most 12 + 164 octets (352 hex digits); a
#: modem or a line noise burst can produce more, which is cut (and the cut said).
MAX_PDU_TEXT = 1024
MAX_ERROR = 300


def bounded(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, saying how long it was when cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters, cut)"


class Quarantine:
    """Keeps undecodable inbound SMS and releases them when the operator has seen them."""

    def __init__(self, db: Database, *, on_new_event: Callable[[], None]) -> None:
        self._db = db
        self._on_new_event = on_new_event

    async def keep(
        self,
        modem: str,
        pdu_hex: str,
        error: str,
        storage: str | None = None,
        index: int | None = None,
    ) -> None:
        """Store the undecodable SMS (raises when that is impossible: keep it on the SIM).

        Also what `Inbound` calls for a decoded part the store cannot take."""
        item = QuarantineItem(
            modem=modem,
            storage=storage,
            storage_index=index,
            pdu_hex=bounded(pdu_hex, MAX_PDU_TEXT),
            error=bounded(error or "undecodable", MAX_ERROR),
        )
        where = "routed directly" if storage is None else f"storage {storage}/{index}"
        detail = f"an SMS that cannot be decoded was set aside ({where}): {item.error}"
        stored = await repository.quarantine_pdu(
            self._db, item, alert_detail=detail, render=render_alert
        )
        if not stored.is_new:
            log.info("%s: quarantined SMS %d read again (%s)", modem, stored.id, where)
            return
        log.error(
            "%s: undecodable SMS quarantined as %d (%s): %r; raw %r",
            modem,
            stored.id,
            where,
            item.error,
            item.pdu_hex,
        )
        telemetry.quarantined(modem)
        if stored.alert_raised:
            log.warning("%s: alert quarantined raised: %r", modem, detail)
            self._on_new_event()

    async def keep_undecodable(self, event: UndecodablePdu) -> None:
        """`keep` for the modem layer's event (stored or routed)."""
        await self.keep(event.modem_id, event.pdu_hex, event.reason, event.storage, event.index)

    async def release(self, entry_id: int) -> QuarantineRecord | None:
        """Delete one quarantined SMS; the modem's alert is resolved with its last one."""
        released = await repository.release_quarantined(self._db, entry_id, render=render_alert)
        if released is not None:
            log.info("%s: quarantined SMS %d cleared", released.modem, entry_id)
            # The alert may have been resolved with it: its event is due now.
            self._on_new_event()
        return released
