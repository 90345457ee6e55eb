"""SIMCom SIM800 family (PROTOCOL.md §2): what differs from the generic modem.

* ``<ds>`` accepts only 0/1, so status reports come as two-line ``+CDS`` (§2.10).
* Boot banner ``RDY`` / ``+CFUN: 1`` / ``+CPIN: READY`` / ``Call Ready`` / ``SMS Ready``;
  seeing it later means a brown-out reset (§2.3).
* SMS commands fail with ``+CMS ERROR`` until ``SMS Ready`` (handled by the generic
  "not yet" retry).
"""

from __future__ import annotations

from smsgw.modem.base import Modem


class Sim800Modem(Modem):
    dialect = "sim800"
    cnmi_candidates = ((2, 1, 0, 1, 0), (2, 1, 0, 0, 0), (1, 1, 0, 1, 0), (1, 1, 0, 0, 0))
    storage_preference = ("SM", "ME")
    reboot_urcs = frozenset({"RDY", "SMS Ready", "Call Ready", "NORMAL POWER DOWN"})
