"""The bodies of /health/live and /health/ready, computed once for whoever serves them.

The REST API documents both routes (their schemas are in `smsgw.api.schemas`), but a probe
must not load the web stack to be answered: `smsgw.webfront` answers them directly, from
the same functions, so the two can never disagree.
"""

from __future__ import annotations

import logging
from typing import Protocol

from smsgw.exceptions import StoreError
from smsgw.gateway import operations

__all__ = ["LIVENESS", "Probed", "readiness"]

log = logging.getLogger(__name__)


class Probed(Protocol):
    """What health needs of the gateway (`Gateway` and `GatewayOperations` have it)."""

    async def ready(self) -> tuple[bool, str]: ...


#: The process answers HTTP; nothing else is checked.
LIVENESS: dict[str, object] = {"status": "ok"}


async def readiness(gateway: Probed) -> tuple[bool, dict[str, object]]:
    """Ready = the database answers and at least one modem is READY; the body says why not.

    Without `[mqtt]` the body is exactly ``{"ready", "reason"}``: clients written against
    that shape keep working. The MQTT link never makes the gateway unready: events wait for
    the broker in the database."""
    try:
        ok, reason = await gateway.ready()
    except StoreError as exc:
        # Unauthenticated route: never name the database user, host or path in the answer.
        log.warning("readiness: %s", exc)
        ok, reason = False, "database unreachable"
    body: dict[str, object] = {"ready": ok, "reason": reason}
    link = operations.mqtt_status(gateway)
    if link is not None:
        body["mqtt"] = {
            "connected": link.connected,
            "pending": link.pending,
            "published": link.published,
            "failures": link.failures,
        }
    return ok, body
