"""The modem events the gateway only reports: each becomes one log line an operator can act on.

Kept out of the daemon's event routing, which handles the events that change state (a
message, a status report, a modem state change); these only inform.
"""

from __future__ import annotations

import logging

from smsgw.modem import (
    ModemEvent,
    RebootDetected,
    RegistrationChanged,
    StorageAlmostFull,
    StoredSubmitFound,
)

__all__ = ["log_modem_event"]

log = logging.getLogger(__name__)


def log_modem_event(name: str, event: ModemEvent) -> None:
    """One line for modem `name`'s informational event; nothing for the other kinds."""
    if isinstance(event, StoredSubmitFound):
        log.info("%s: outgoing message left in storage %s/%s", name, event.storage, event.index)
    elif isinstance(event, StorageAlmostFull):
        log.warning(
            "%s: storage %s almost full (%d/%d)", name, event.storage, event.used, event.total
        )
    elif isinstance(event, RebootDetected):
        log.warning("%s: modem rebooted (%s)", name, event.reason)
    elif isinstance(event, RegistrationChanged):
        log.info("%s: registration %s", name, event.registration)
