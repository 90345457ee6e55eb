"""The webhook outbox: durable events, claimed per peer in order, leased to one dispatcher.

Per-peer order: an event is claimable only while it is the oldest *pending* event of its peer,
so a peer's events are posted one at a time in creation order even with several dispatchers
(or several nodes). A claim is a lease (`claimed_by`, `claim_until`): if the dispatcher dies,
the event becomes claimable again when the lease runs out. What the dispatcher learned from a
POST is recorded by `outcomes`; dead letters are listed and retried by `dead_letters`.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Collection

import sqlalchemy as sa

from smsgw.models import OutboxEntry, WebhookEventKind
from smsgw.store.database import Database
from smsgw.store.repository._common import add_outbox_event, to_outbox_entry
from smsgw.store.schema import webhook_outbox
from smsgw.store.types import NewEvent, OutboxState

DEFAULT_CLAIM_LEASE = datetime.timedelta(minutes=2)

_PENDING = OutboxState.PENDING.value


async def enqueue_event(
    db: Database,
    event: NewEvent,
    *,
    kind: WebhookEventKind,
    peer: str,
    modem: str | None = None,
) -> OutboxEntry | None:
    """Queue a standalone event (no message change with it); None if `event_id` exists."""
    now = db.clock()
    async with db.transaction("queue webhook event") as connection:
        pk = await add_outbox_event(
            connection,
            db,
            event,
            kind=kind,
            peer=peer,
            modem=modem,
            message_pk=None,
            now=now,
            ignore_duplicate=True,
        )
        if pk is None:
            return None
        row = (
            await connection.execute(sa.select(webhook_outbox).where(webhook_outbox.c.pk == pk))
        ).one()
        return to_outbox_entry(row)


def _head_of_peer(*, excluding: bool) -> list[sa.ColumnElement[bool]]:
    """Pending, the oldest pending event of its peer, and (`excluding`) not for a peer in the
    `excluded_peers` parameter.

    A separate statement without the exclusion, rather than an empty `NOT IN` list, keeps the
    common no-exclusion query as simple as before.
    """
    earlier = webhook_outbox.alias("earlier")
    conditions: list[sa.ColumnElement[bool]] = [
        webhook_outbox.c.state == _PENDING,
        ~sa.exists().where(
            earlier.c.state == _PENDING,
            earlier.c.peer == webhook_outbox.c.peer,
            earlier.c.pk < webhook_outbox.c.pk,
        ),
    ]
    if excluding:
        conditions.append(
            webhook_outbox.c.peer.not_in(sa.bindparam("excluded_peers", expanding=True))
        )
    return conditions


@functools.cache
def _claimable_events(dialect: str, *, excluding: bool) -> sa.Select[int]:
    """The claim's SELECT, built once per dialect and variant (`_head_of_peer`); parameters
    `now`, `limit` (and `excluded_peers`). PostgreSQL skips rows another claimer holds."""
    statement = (
        sa.select(webhook_outbox.c.pk)
        .where(
            *_head_of_peer(excluding=excluding),
            webhook_outbox.c.next_attempt_at <= sa.bindparam("now"),
            sa.or_(
                webhook_outbox.c.claim_until.is_(None),
                webhook_outbox.c.claim_until < sa.bindparam("now"),
            ),
        )
        .order_by(webhook_outbox.c.pk)
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )
    if dialect == "postgresql":
        statement = statement.with_for_update(skip_locked=True, of=webhook_outbox)
    return statement


#: Parameters: `claimed_pks` (from `_claimable_events`), `node`, `lease_until`.
_CLAIM_EVENTS = (
    sa.update(webhook_outbox)
    .where(webhook_outbox.c.pk.in_(sa.bindparam("claimed_pks", expanding=True)))
    .values(claimed_by=sa.bindparam("node"), claim_until=sa.bindparam("lease_until"))
    .returning(*webhook_outbox.c)
)


def _excluded(exclude_peers: Collection[str]) -> dict[str, list[str]]:
    """The `excluded_peers` parameter of a statement built with `excluding=True`."""
    return {"excluded_peers": list(exclude_peers)}


async def claim_due_events(
    db: Database,
    *,
    node: str,
    limit: int = 16,
    lease: datetime.timedelta = DEFAULT_CLAIM_LEASE,
    exclude_peers: Collection[str] = (),
) -> list[OutboxEntry]:
    """Claim up to `limit` due events, at most one per peer (the peer's oldest pending one),
    none for `exclude_peers` (those the caller is still posting), oldest first.

    The lease should exceed the webhook timeout; finish each event with one of
    `OutcomeRecorder.finish` or `OutcomeRecorder.complete_incoming` (`outcomes`).
    """
    now = db.clock()
    async with db.transaction("claim webhook events") as connection:
        statement = _claimable_events(db.dialect, excluding=bool(exclude_peers))
        params: dict[str, object] = {"now": now, "limit": limit}
        if exclude_peers:
            params.update(_excluded(exclude_peers))
        pks = list((await connection.execute(statement, params)).scalars())
        if not pks:
            return []
        # UPDATE ... RETURNING instead of UPDATE then SELECT: one statement less per claim
        # (SQLite >= 3.35 and PostgreSQL both have it). RETURNING has no order: sort here.
        rows = (
            await connection.execute(
                _CLAIM_EVENTS, {"claimed_pks": pks, "node": node, "lease_until": now + lease}
            )
        ).all()
        return [to_outbox_entry(row) for row in sorted(rows, key=lambda row: int(row.pk))]


async def release_event_claims(db: Database, *, node: str) -> int:
    """At start-up: make the events `node` had claimed when it died claimable at once.

    A node name belongs to one process at a time, so its claims found at start are left over
    from a crash; without this they would wait for the whole lease. Returns how many."""
    async with db.transaction("release webhook event claims") as connection:
        result = await connection.execute(
            sa.update(webhook_outbox)
            .where(webhook_outbox.c.state == _PENDING, webhook_outbox.c.claimed_by == node)
            .values(claimed_by=None, claim_until=None)
        )
        return int(result.rowcount or 0)


def _next_due(*, excluding: bool) -> sa.Select[datetime.datetime, datetime.datetime | None]:
    ready_at = sa.case(
        (
            webhook_outbox.c.claim_until > webhook_outbox.c.next_attempt_at,
            webhook_outbox.c.claim_until,
        ),
        else_=webhook_outbox.c.next_attempt_at,
    )
    return (
        sa.select(webhook_outbox.c.next_attempt_at, webhook_outbox.c.claim_until)
        .where(*_head_of_peer(excluding=excluding))
        .order_by(ready_at)
        .limit(1)
    )


# Built once: the dispatcher asks after every batch of a burst.
_NEXT_DUE = _next_due(excluding=False)
_NEXT_DUE_EXCLUDING = _next_due(excluding=True)


async def next_event_due_at(
    db: Database, *, exclude_peers: Collection[str] = ()
) -> datetime.datetime | None:
    """When the earliest claimable head-of-peer event becomes due (a leased one: when its
    lease ends), or None when nothing is pending; lets the dispatcher sleep until then."""
    statement = _NEXT_DUE_EXCLUDING if exclude_peers else _NEXT_DUE
    async with db.transaction("find next due webhook event") as connection:
        rows = (
            await connection.execute(statement, _excluded(exclude_peers) if exclude_peers else {})
        ).all()
    if not rows:
        return None
    next_attempt_at: datetime.datetime = rows[0].next_attempt_at
    claim_until: datetime.datetime | None = rows[0].claim_until
    return next_attempt_at if claim_until is None else max(next_attempt_at, claim_until)


def still_claimed(*, with_node: bool) -> list[sa.ColumnElement[bool]]:
    """The event `entry_id` (a parameter) is pending and, `with_node`, not claimed by another
    node than the `node` parameter.

    With several nodes, a dispatcher whose lease ran out (a POST slower than the lease, a
    stalled process) may finish after another node claimed the event again; its late result
    must not release the other node's claim, or a third node could post it too and the peer's
    next event could overtake it. `node=None` (tests, one-process tools) skips the check.
    """
    conditions = [
        webhook_outbox.c.pk == sa.bindparam("entry_id"),
        webhook_outbox.c.state == _PENDING,
    ]
    if with_node:
        conditions.append(
            sa.or_(
                webhook_outbox.c.claimed_by.is_(None),
                webhook_outbox.c.claimed_by == sa.bindparam("node"),
            )
        )
    return conditions


def claim_params(entry_id: int, node: str | None) -> dict[str, object]:
    """The parameters of `still_claimed` (`node` only when checked)."""
    return {"entry_id": entry_id} if node is None else {"entry_id": entry_id, "node": node}


async def outbox_counts(db: Database) -> dict[OutboxState, int]:
    """How many events are in each state (for metrics)."""
    async with db.transaction("count webhook events") as connection:
        rows = (
            await connection.execute(
                sa.select(webhook_outbox.c.state, sa.func.count()).group_by(webhook_outbox.c.state)
            )
        ).all()
    counts = dict.fromkeys(OutboxState, 0)
    for state, count in rows:
        counts[OutboxState(state)] = int(count)
    return counts
