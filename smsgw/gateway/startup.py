"""What a node does before it opens any port: settle what a crash left behind, and claim its
modem names on the (possibly shared) database."""

from __future__ import annotations

import logging

from smsgw import config
from smsgw.exceptions import SmsgwError, StoreError
from smsgw.gateway.render import render_status
from smsgw.modem import ModemState
from smsgw.store import Database, repository

__all__ = ["ModemNameTaken", "recover", "register_modems", "release_event_claims"]

log = logging.getLogger(__name__)


class ModemNameTaken(SmsgwError):
    """A configured modem name is in use by another live node on the same database."""


async def recover(db: Database, *, node: str, resend_interrupted: bool) -> None:
    """Messages this node was sending when it stopped are reported `interrupted` (never
    silently sent twice, unless `resend_interrupted`)."""
    interrupted = await repository.interrupt_stale_sends(
        db, node=node, render_status=render_status, resend=resend_interrupted
    )
    for change in interrupted:
        log.warning(
            "message %s to %s was being sent when the gateway stopped: %s",
            change.message_id,
            change.peer,
            change.error or change.status.value,
        )


async def release_event_claims(db: Database, *, node: str) -> None:
    """Webhook events this node had claimed when it stopped are pending again."""
    released = await repository.release_event_claims(db, node=node)
    if released:
        log.info("%d webhook event(s) claimed before a crash are pending again", released)


async def register_modems(db: Database, settings: config.Settings) -> None:
    """Claim this node's modem names before opening any port: with several nodes on one
    database, a name another live node reports is a configuration mistake that would mix
    up both modems' auto-replies and reports, so the start stops with a clear error."""
    node = settings.node.name
    for modem in settings.modem:
        try:
            await repository.heartbeat_modem(
                db,
                modem=modem.name,
                node=node,
                state=ModemState.DISCONNECTED.value,
                info={"port": modem.port},
                stale_after=settings.node.lease,
            )
        except StoreError as error:
            raise ModemNameTaken(
                f"cannot start node {node}: {error}. Rename [[modem]] {modem.name!r} "
                f"in this node's configuration, or stop the other node"
            ) from error
