"""Pick the dialect class from ``AT+CGMI``/``AT+CGMM`` (or a configured override)."""

from __future__ import annotations

import logging

from smsgw.exceptions import ModemError
from smsgw.modem.base import Identity, Modem
from smsgw.modem.huawei import HuaweiModem
from smsgw.modem.sim800 import Sim800Modem

log = logging.getLogger(__name__)

DIALECTS: dict[str, type[Modem]] = {
    "generic": Modem,
    "sim800": Sim800Modem,
    "huawei": HuaweiModem,
}


def dialect_for(identity: Identity, override: str | None = None) -> type[Modem]:
    """The class to drive this modem with; unknown makers fall back to generic, with a warning.

    ``override`` (config ``dialect = "huawei"``) wins; an unknown name is a ModemError.
    """
    if override is not None and override != "auto":
        try:
            return DIALECTS[override]
        except KeyError:
            names = ", ".join(sorted(DIALECTS))
            raise ModemError(f"unknown modem dialect {override!r} (choose from {names})") from None
    maker = identity.manufacturer.upper()
    model = identity.model.upper()
    if "SIMCOM" in maker or model.startswith(("SIM800", "SIMCOM_SIM800", "SIM900")):
        return Sim800Modem
    if "HUAWEI" in maker:
        return HuaweiModem
    log.warning(
        "unknown modem %r %r: using the generic 27.005 dialect",
        identity.manufacturer,
        identity.model,
    )
    return Modem
