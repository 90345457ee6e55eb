"""Huawei USB sticks (PROTOCOL.md §3): what differs from the generic modem.

* ``AT^CURC=0`` silences the periodic ``^RSSI``/``^MODE``/``^DSFLOWRPT`` noise; some
  firmwares (E1750/E1752) refuse it, which is fine (§3.2.2).
* ``<ds>=1`` is not allowed with ``<mode>`` 0 or 2: prefer ``2,1,0,2,0`` (``+CDSI`` into
  "SR", then read), else ``1,1,0,1,0`` (``+CDS``) (§3.3.2).
* Storage indexes start at 0 (§3.3.4): nothing to do, indexes are always taken from URCs.
* USSD in the default ``^USSDMODE=1``: request and answer are packed GSM-7 hex (§3.3.8);
  a firmware that refuses that gets text instead. Calls are rejected with ``AT+CHUP``.
* After ``^CURC=0`` the boot URCs (``^BOOT``, ``^SIMST``, ``^SRVST``) only reappear when
  the stick has reset (which restores ``^CURC=1``), so they mean "reboot".
"""

from __future__ import annotations

import logging

from smsgw.at import commands as cmd
from smsgw.at.parser import Urc
from smsgw.exceptions import AtCommandError, CmeError, CmsError
from smsgw.modem.base import Modem

log = logging.getLogger(__name__)


class HuaweiModem(Modem):
    dialect = "huawei"
    cnmi_candidates = ((2, 1, 0, 2, 0), (1, 1, 0, 1, 0), (1, 1, 0, 2, 0), (2, 1, 0, 0, 0))
    storage_preference = ("SM", "ME")
    reboot_urcs = frozenset({"^SYSSTART"})
    ussd_packed = True
    _quiet = False

    async def before_sim(self) -> None:
        try:
            await self.run(cmd.huawei_unsolicited(False))
            self._quiet = True
        except (AtCommandError, CmeError, CmsError) as exc:
            log.info("%s: AT^CURC=0 refused (%s); ignoring the noise instead", self.modem_id, exc)
            self._quiet = False

    def is_reboot_urc(self, urc: Urc) -> bool:
        if super().is_reboot_urc(urc):
            return True
        return self._quiet and urc.name in ("^BOOT", "^SIMST")
