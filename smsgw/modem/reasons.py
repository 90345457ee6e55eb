"""Human-readable causes for ``+CMS ERROR`` codes (27.005 §3.2.5, PROTOCOL.md §1.10).

Send failures reach the API and webhooks as text, so the common codes get a clear sentence
instead of a bare number.
"""

from __future__ import annotations

CMS_REASONS: dict[int, str] = {
    1: "unassigned (unallocated) number",
    8: "operator determined barring",
    10: "call barred",
    21: "short message transfer rejected",
    27: "destination out of service",
    28: "unidentified subscriber",
    29: "facility rejected",
    30: "unknown subscriber",
    38: "network out of order",
    41: "temporary failure",
    42: "congestion",
    47: "resources unavailable",
    50: "requested facility not subscribed",
    69: "requested facility not implemented",
    96: "invalid message (mandatory information missing)",
    111: "protocol error",
    300: "ME failure",
    301: "SMS service of ME reserved",
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    305: "invalid text mode parameter",
    310: "SIM not inserted",
    311: "SIM PIN required",
    313: "SIM failure",
    314: "SIM busy",
    320: "memory failure",
    321: "invalid memory index",
    322: "memory full",
    330: "SMSC address unknown",
    331: "no network service",
    332: "network timeout",
    340: "no +CNMA acknowledgement expected",
    500: "unknown error",
}


def cms_reason(code: int | None, text: str = "") -> str:
    """``"+CMS ERROR 330: SMSC address unknown"``; verbose (CMEE=2) text is kept as is."""
    if code is None:
        return f"+CMS ERROR: {text or 'unknown'}"
    known = CMS_REASONS.get(code)
    if known is None and code >= 512:
        known = "manufacturer-specific error"
    return f"+CMS ERROR {code}: {known or 'unknown cause'}"
