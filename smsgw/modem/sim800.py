"""SIMCom SIM800 family (PROTOCOL.md §2): what differs from the generic modem.

* ``<ds>`` accepts only 0/1, so status reports come as two-line ``+CDS`` (§2.10), never
  stored on the SIM. To not lose one that arrives while smsgw is down or cannot commit it,
  the generic layer sets ``AT+CSMS=1`` first (27.005 phase 2+): the modem then waits for
  ``AT+CNMA``, sent only after the sink returned (report committed); unacknowledged, it is
  refused to the network, which offers it again later, and the modem turns routing off
  (the health check sees ``AT+CNMI?`` changed and re-initialises). Limits: the SMSC's retry
  schedule is the network's (minutes to hours); a retry that comes while smsgw is still down
  finds routing off and is dropped by the modem; and the re-offer is emulated from 27.005
  §3.4.4, not yet confirmed on a real SIM800. If ``AT+CSMS=1`` is refused, the modem
  acknowledges by itself and a report routed while nobody listens is lost (logged at start).
* Boot banner ``RDY`` / ``+CFUN: 1`` / ``+CPIN: READY`` / ``Call Ready`` / ``SMS Ready``;
  seeing it later means a brown-out reset (§2.3).
* USSD strings are text in the ``AT+CSCS`` set (no packing); calls are ended with ``ATH``.
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
    #: SIMCom's manual documents ``ATH`` for ending calls.
    hang_up_with_chup = False
