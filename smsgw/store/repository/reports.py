"""Status reports: match to the sent part, apply TP-ST, aggregate to the message.

TP-ST classes (3GPP TS 23.040 §9.2.3.15): 0x00-0x1F transaction completed (delivered),
0x20-0x3F temporary error with the SC still trying (no change yet), 0x40-0x5F permanent error,
0x60-0x7F temporary error after which the SC stopped trying (both final failures; 0x46
"validity period expired" means `expired`). Reserved values above 0x7F are recorded but change
nothing: guessing "failed" would report a delivered message as lost.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa

from smsgw.store.database import Database
from smsgw.store.repository._common import add_status_event, for_update, message_row
from smsgw.store.repository.transitions import aggregate
from smsgw.store.schema import message_parts, messages, unmatched_status_reports
from smsgw.store.types import PartStatus, ReportApplied, StatusEventFactory, StatusReport

TP_ST_VALIDITY_EXPIRED = 0x46

DEFAULT_MATCH_WINDOW = datetime.timedelta(days=3)


def part_status_for(tp_st: int) -> PartStatus | None:
    """The final part status a TP-ST means, or None while the SC is still trying."""
    if 0x00 <= tp_st <= 0x1F:
        return PartStatus.DELIVERED
    if tp_st == TP_ST_VALIDITY_EXPIRED:
        return PartStatus.EXPIRED
    if 0x40 <= tp_st <= 0x7F:
        return PartStatus.FAILED
    return None


async def apply_status_report(
    db: Database,
    report: StatusReport,
    *,
    render_status: StatusEventFactory,
    window: datetime.timedelta = DEFAULT_MATCH_WINDOW,
) -> ReportApplied:
    """Match `report` to the most recent part sent on its modem with its TP-MR to its recipient
    within `window` (TP-MR wraps at 256, so older parts are ambiguous), update the part, and
    return the message transitions it caused (at most one `sms_status` per message and status).

    An unmatched report is stored in `unmatched_status_reports` (and `matched` is False). A
    repeated report for a part that is already final changes nothing.
    """
    now = db.clock()
    async with db.transaction("apply status report") as connection:
        part = (
            await connection.execute(
                sa.select(
                    message_parts.c.pk, message_parts.c.seq, message_parts.c.status, messages.c.id
                )
                .join(messages, messages.c.pk == message_parts.c.message_pk)
                .where(
                    message_parts.c.modem == report.modem,
                    message_parts.c.tp_mr == report.tp_mr,
                    message_parts.c.recipient == report.recipient,
                    message_parts.c.sent_at >= now - window,
                )
                .order_by(message_parts.c.sent_at.desc(), message_parts.c.pk.desc())
                .limit(1)
            )
        ).one_or_none()
        if part is None:
            await connection.execute(
                sa.insert(unmatched_status_reports).values(
                    modem=report.modem,
                    tp_mr=report.tp_mr,
                    recipient=report.recipient,
                    tp_st=report.tp_st,
                    smsc_timestamp=report.smsc_timestamp,
                    discharge_time=report.discharge_time,
                    received_at=now,
                )
            )
            return ReportApplied(matched=False, message_id=None, part_seq=None, transitions=())
        # Lock the message before touching its parts: two reports for two parts of one message
        # must not both conclude "the other part is not delivered yet".
        message = await message_row(connection, db, part.id, lock=True)
        locked_part = (
            await connection.execute(
                for_update(sa.select(message_parts).where(message_parts.c.pk == part.pk), db)
            )
        ).one()
        if locked_part.status not in (PartStatus.SENT.value, PartStatus.PENDING.value):
            return ReportApplied(
                matched=True, message_id=message.id, part_seq=int(part.seq), transitions=()
            )
        new_status = part_status_for(report.tp_st)
        detail = f"TP-ST 0x{report.tp_st:02X}"
        values: dict[str, object] = {"tp_st": report.tp_st, "report_at": now}
        if new_status is not None:
            values["status"] = new_status.value
            if new_status is not PartStatus.DELIVERED:
                values["error"] = f"status report {detail}"
        await connection.execute(
            sa.update(message_parts).where(message_parts.c.pk == part.pk).values(**values)
        )
        await add_status_event(
            connection,
            message_pk=int(message.pk),
            status=new_status.value if new_status is not None else "report",
            at=now,
            detail=detail if new_status is not None else f"{detail} (temporary, SC still trying)",
            part_seq=int(part.seq),
        )
        changes = await aggregate(connection, db, message, now=now, render_status=render_status)
        return ReportApplied(
            matched=True, message_id=message.id, part_seq=int(part.seq), transitions=tuple(changes)
        )
