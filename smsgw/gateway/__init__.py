"""Composition layer: the only place modem, store and webhook meet (DESIGN.md, L4).

- `daemon.Gateway(settings)`: `async with` it to run everything `smsgw run` runs; it is also
  what the REST API and the web inbox are handed (`operations.GatewayOperations`).
- `admission.Admission`: whether a send may be queued and for which modem (limits).
- `fleet.Fleet`: this node's modems, counters, details, readiness and heartbeats.
- `startup`: crash recovery and modem-name registration before any port is opened.
- `modem_log`: one log line per inform-only modem event.
- `operations`: what the API and the inbox do to the gateway, written once for both, over
  the shared client-input checks in `inputs`; `throttle` counts wrong keys for both.
- `inbound.Inbound`: modem part → store (+ `incoming_sms` event) → only then off the SIM.
- `outbound.ModemWorker`: one per modem, sends the queue with TP-SRR, records TP-MRs.
- `reports.Reports`: status reports → aggregated `sms_status` events.
- `outbox_adapter.StoreOutbox`: the webhook dispatcher's Outbox over the store.
- `render`: the webhook bodies, rendered inside the store's transactions.
- `telemetry`: the Prometheus numbers (objects in `smsgw.metrics`).
"""

from smsgw.exceptions import SubmitRefused
from smsgw.gateway.daemon import Gateway
from smsgw.gateway.inbound import Inbound
from smsgw.gateway.outbound import ModemWorker
from smsgw.gateway.outbox_adapter import StoreOutbox, cut_reply
from smsgw.gateway.reports import Reports
from smsgw.gateway.startup import ModemNameTaken
from smsgw.models import ModemView

__all__ = [
    "Gateway",
    "Inbound",
    "ModemNameTaken",
    "ModemView",
    "ModemWorker",
    "Reports",
    "StoreOutbox",
    "SubmitRefused",
    "cut_reply",
]
