"""Delivery reports: modem `StatusReportReceived` → store → aggregated `sms_status` events.

Like incoming parts, a report is deleted from the SIM only after `on_report` returns, i.e.
after the part status, the message transition and its webhook event are committed together.
Re-applying the same report is harmless (the event id is per message and status).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from smsgw.gateway.render import render_status
from smsgw.modem.events import StatusReportReceived
from smsgw.store import Database, repository
from smsgw.store.types import StatusReport, StatusTransition

log = logging.getLogger(__name__)


class Reports:
    """Applies status reports to outgoing parts."""

    def __init__(
        self,
        db: Database,
        *,
        on_new_event: Callable[[], None],
        on_transition: Callable[[StatusTransition], None] = lambda _t: None,
    ) -> None:
        self._db = db
        self._on_new_event = on_new_event
        self._on_transition = on_transition

    async def on_report(self, event: StatusReportReceived) -> None:
        report = event.report
        applied = await repository.apply_status_report(
            self._db,
            StatusReport(
                modem=event.modem_id,
                tp_mr=report.reference,
                recipient=report.number,
                tp_st=report.status,
                smsc_timestamp=report.scts,
                discharge_time=report.discharge_time,
            ),
            render_status=render_status,
        )
        if not applied.matched:
            log.warning(
                "%s: status report TP-MR %d for %s (TP-ST 0x%02X) matches no recent part; "
                "stored as unmatched",
                event.modem_id,
                report.reference,
                report.number,
                report.status,
            )
            return
        for transition in applied.transitions:
            log.info(
                "message %s to %s is %s%s",
                transition.message_id,
                transition.peer,
                transition.status.value,
                f" ({transition.error})" if transition.error else "",
            )
            self._on_transition(transition)
        if applied.transitions:
            self._on_new_event()
