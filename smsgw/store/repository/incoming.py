"""Incoming SMS: store each part idempotently, reassemble, and queue the webhook event.

The whole chain "part stored → message complete → message row + `incoming_sms` outbox event"
is one transaction, so after its commit the caller may delete the part from the SIM: nothing
can be lost between the modem and the webhook, and a re-read of the SIM after a crash hits the
unique key instead of creating a second message.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from smsgw.models import Direction, OutboxEntry, WebhookEventKind
from smsgw.store.connection import Connection
from smsgw.store.database import Database
from smsgw.store.group_commit import GroupCommit
from smsgw.store.ids import new_id
from smsgw.store.repository._common import (
    add_claimed_outbox_event,
    for_update,
    insert_or_ignore,
    join_parts,
    lock_key,
)
from smsgw.store.repository.history import load_history
from smsgw.store.schema import incoming_parts, messages
from smsgw.store.types import (
    ClaimingPart,
    EventClaim,
    IncomingEventFactory,
    IncomingPart,
    PartStored,
    ReceivedMessage,
)

#: Put in the text where a part never arrived (reassembly timed out).
MISSING_PART_MARKER = "[…]"

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

#: Advisory-lock namespace for concat groups (the two-key lock space; see `lock_key`).
_GROUP_LOCK = 0x736D73

_IDENTITY = ("modem", "sender", "smsc_timestamp", "concat_ref", "concat_seq", "text_digest")


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le", "surrogatepass")


def _join_text(chunks: Sequence[bytes]) -> str:
    """Decode the concatenated UTF-16 so surrogate pairs split across parts become one character;
    what is still unpaired (a neighbouring part is missing) becomes U+FFFD."""
    text = b"".join(chunks).decode("utf-16-le", "surrogatepass")
    # NUL (UCS-2 U+0000, or 8-bit data) cannot be stored in PostgreSQL text; it would make the
    # part unstorable and keep it on the SIM forever.
    return _LONE_SURROGATE.sub("\ufffd", text).replace("\x00", "\ufffd")


def incoming_part_committer(
    db: Database, *, render: IncomingEventFactory, history_size: int
) -> GroupCommit[IncomingPart | ClaimingPart, PartStored]:
    """A `GroupCommit` storing parts: parts submitted while a commit is running share the
    next transaction (a burst of 1,000 `+CMTI` pays for a few dozen fsyncs, not 1,000).

    A `ClaimingPart` also claims its message's event for the local dispatcher in that
    transaction (`PartStored.claimed`), so the POST can start when the commit returns instead
    of after a second transaction (and fsync) that claims it.

    `render` may be called twice for one part (a failed batch is retried part by part), so it
    must only build the event, never announce it.
    """

    async def apply(connection: Connection, item: IncomingPart | ClaimingPart) -> PartStored:
        part, claim = (item.part, item.claim) if isinstance(item, ClaimingPart) else (item, None)
        return await apply_incoming_part(
            connection, db, part, render=render, history_size=history_size, claim=claim
        )

    return GroupCommit(db, "store incoming parts", apply)


async def apply_incoming_part(
    connection: Connection,
    db: Database,
    part: IncomingPart,
    *,
    render: IncomingEventFactory,
    history_size: int,
    claim: EventClaim | None = None,
) -> PartStored:
    """Store one part; if it completes a message, create the message and its event too
    (claimed with `claim` when the event is the head of its peer).

    Runs inside the caller's transaction and has no side effects outside it: once that commits,
    the part is stored (new or already known) and the caller may delete it from modem storage.

    A single SMS costs four statements: INSERT part, INSERT message, UPDATE part, INSERT
    event (plus the history SELECT when `history_size` > 0). The part just inserted *is* its
    whole group, so the pending-group SELECT is only run for concatenated parts.
    """
    now = db.clock()
    if part.concat_total > 1:
        group_key = f"{part.modem}\x1f{part.sender}\x1f{part.concat_ref}\x1f{part.concat_total}"
        await lock_key(connection, db, _GROUP_LOCK, group_key)
    digest_input = _utf16(part.text)
    values: dict[str, Any] = {
        "modem": part.modem,
        "sender": part.sender,
        "smsc_timestamp": part.smsc_timestamp,
        "concat_ref": part.concat_ref if part.concat_ref is not None else 0,
        "concat_total": part.concat_total,
        "concat_seq": part.concat_seq,
        "text_digest": hashlib.sha256(digest_input).hexdigest(),
        "text_utf16": digest_input,
        "encoding": part.encoding,
        "storage_index": part.storage_index,
        "received_at": now,
    }
    pk = await insert_or_ignore(connection, db, incoming_parts, values, _IDENTITY)
    if pk is None:
        return PartStored(is_new=False, message=None)
    group: Sequence[_StoredPart]
    if part.concat_total == 1:
        group = [_StoredPart(pk=pk, **{k: values[k] for k in _STORED_PART_COLUMNS})]
    else:
        group = await _pending_group(
            connection,
            db,
            modem=part.modem,
            sender=part.sender,
            concat_ref=values["concat_ref"],
            total=part.concat_total,
        )
        if len({row.concat_seq for row in group}) < part.concat_total:
            return PartStored(is_new=True, message=None)
    message, claimed = await _assemble(
        connection, db, group, now=now, render=render, history_size=history_size, claim=claim
    )
    return PartStored(is_new=True, message=message, claimed=claimed)


@dataclasses.dataclass(frozen=True, slots=True)
class _StoredPart:
    """The columns of an `incoming_parts` row that reassembly reads."""

    pk: int
    modem: str
    sender: str
    smsc_timestamp: datetime.datetime
    concat_total: int
    concat_seq: int
    text_utf16: bytes
    encoding: str
    received_at: datetime.datetime


_STORED_PART_COLUMNS = tuple(
    field.name for field in dataclasses.fields(_StoredPart) if field.name != "pk"
)


async def deliver_timed_out_parts(
    db: Database,
    *,
    older_than: datetime.timedelta,
    render: IncomingEventFactory,
    history_size: int,
) -> list[ReceivedMessage]:
    """Turn every incomplete multipart message whose first part is older than `older_than`
    into a message with the missing parts marked (one transaction per message).

    Call it periodically (and at start-up) with `reassembly_timeout`.
    """
    now = db.clock()
    cutoff = now - older_than
    async with db.transaction("find timed-out incoming parts") as connection:
        groups = (
            await connection.execute(
                sa.select(
                    incoming_parts.c.modem,
                    incoming_parts.c.sender,
                    incoming_parts.c.concat_ref,
                    incoming_parts.c.concat_total,
                )
                .where(incoming_parts.c.message_pk.is_(None))
                .group_by(
                    incoming_parts.c.modem,
                    incoming_parts.c.sender,
                    incoming_parts.c.concat_ref,
                    incoming_parts.c.concat_total,
                )
                .having(sa.func.min(incoming_parts.c.received_at) <= cutoff)
            )
        ).all()
    delivered: list[ReceivedMessage] = []
    for modem, sender, concat_ref, total in groups:
        async with db.transaction("deliver timed-out incoming message") as connection:
            group = await _pending_group(
                connection, db, modem=modem, sender=sender, concat_ref=concat_ref, total=total
            )
            if not group:  # another node (or a late part) finished it meanwhile
                continue
            message, _ = await _assemble(
                connection, db, group, now=now, render=render, history_size=history_size
            )
            delivered.append(message)
    return delivered


async def _pending_group(
    connection: Connection,
    db: Database,
    *,
    modem: str,
    sender: str,
    concat_ref: int,
    total: int,
) -> list[_StoredPart]:
    statement = (
        sa.select(*(incoming_parts.c[name] for name in ("pk", *_STORED_PART_COLUMNS)))
        .where(
            incoming_parts.c.modem == modem,
            incoming_parts.c.sender == sender,
            incoming_parts.c.concat_ref == concat_ref,
            incoming_parts.c.concat_total == total,
            incoming_parts.c.message_pk.is_(None),
        )
        .order_by(incoming_parts.c.concat_seq, incoming_parts.c.pk)
    )
    rows = (await connection.execute(for_update(statement, db))).all()
    return [_StoredPart(**row._asdict()) for row in rows]


# Built once: constructing them per message cost more CPU than running them on SQLite.
_INSERT_INCOMING_MESSAGE = sa.insert(messages).returning(messages.c.pk)
#: Parameters: `part_pks` (the group's parts), `new_message_pk` (the message they make).
_LINK_PARTS_TO_MESSAGE = (
    sa.update(incoming_parts)
    .where(incoming_parts.c.pk.in_(sa.bindparam("part_pks", expanding=True)))
    .values(message_pk=sa.bindparam("new_message_pk"))
)


async def _assemble(
    connection: Connection,
    db: Database,
    group: Sequence[_StoredPart],
    *,
    now: datetime.datetime,
    render: IncomingEventFactory,
    history_size: int,
    claim: EventClaim | None = None,
) -> tuple[ReceivedMessage, OutboxEntry | None]:
    """Create the message of `group` and its event; the event when claimed with `claim`."""
    first = group[0]
    total = int(first.concat_total)
    by_seq: dict[int, _StoredPart] = {}
    for row in group:  # duplicates of one seq (a reused ref): keep the earliest
        by_seq.setdefault(int(row.concat_seq), row)
    missing = tuple(seq for seq in range(1, total + 1) if seq not in by_seq)
    marker = _utf16(MISSING_PART_MARKER)
    text = _join_text(
        [bytes(by_seq[seq].text_utf16) if seq in by_seq else marker for seq in range(1, total + 1)]
    )
    earliest = by_seq[min(by_seq)]
    message = ReceivedMessage(
        id=new_id(now),
        modem=first.modem,
        peer=first.sender,
        text=text,
        encoding=earliest.encoding,
        parts=total,
        missing_parts=missing,
        smsc_timestamp=earliest.smsc_timestamp,
        received_at=min(row.received_at for row in group),
    )
    message_pk = (
        await connection.execute(
            _INSERT_INCOMING_MESSAGE,
            {
                "id": message.id,
                "direction": Direction.IN.value,
                "peer": message.peer,
                "modem": message.modem,
                "text": message.text,
                "encoding": message.encoding,
                "parts": message.parts,
                "missing_parts": join_parts(missing),
                "smsc_timestamp": message.smsc_timestamp,
                "received_at": message.received_at,
                "created_at": now,
                "updated_at": now,
                "status": None,
                "delivery_report": False,
            },
        )
    ).scalar_one()
    await connection.execute(
        _LINK_PARTS_TO_MESSAGE,
        {"part_pks": [row.pk for row in group], "new_message_pk": message_pk},
    )
    earlier = await load_history(
        connection,
        modem=message.modem,
        peer=message.peer,
        limit=history_size,
        before_pk=int(message_pk),
    )
    event = render(message, earlier)
    claimed = await add_claimed_outbox_event(
        connection,
        db,
        event,
        kind=WebhookEventKind.INCOMING_SMS,
        peer=message.peer,
        modem=message.modem,
        message_pk=int(message_pk),
        now=now,
        claim=claim,
    )
    return message, claimed


async def prune_incoming_parts(db: Database, *, older_than: datetime.timedelta) -> int:
    """Delete parts already turned into messages and older than `older_than` (how long a SIM
    re-read after a crash can still be recognised); returns how many were deleted."""
    cutoff = db.clock() - older_than
    async with db.transaction("prune incoming parts") as connection:
        result = await connection.execute(
            sa.delete(incoming_parts).where(
                incoming_parts.c.message_pk.is_not(None), incoming_parts.c.received_at < cutoff
            )
        )
        return int(result.rowcount)
