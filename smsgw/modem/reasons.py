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


#: `+CMS ERROR` causes worth sending again after a pause: the SMSC or the radio could not take
#: the message *now*, nothing about the message or the recipient is wrong, and an error
#: means the network did not accept it (no double send). Sources: 3GPP TS 27.005 §3.2.5
#: (ME/TA causes 300-511, PROTOCOL.md §1.10) and TS 24.011 §8.2.5.4 / Annex E (RP-causes
#: 1-127, whose "temporary" class is 38, 41, 42, 47).
TRANSIENT_CMS: frozenset[int] = frozenset(
    {
        38,  # network out of order (24.011: "likely to last a relatively short period")
        41,  # temporary failure
        42,  # congestion
        47,  # resources unavailable, unspecified
        314,  # SIM busy (27.005)
        331,  # no network service (27.005): out of coverage for a moment
        332,  # network timeout (27.005)
    }
)
#: Every other cause fails the message at once, because repeating cannot help:
#: 1 unassigned number, 8 operator determined barring, 10 call barred, 21 SM transfer
#: rejected, 27 destination out of service, 28 unidentified subscriber, 29 facility rejected,
#: 30 unknown subscriber, 50 facility not subscribed, 69 not implemented, 96 invalid message,
#: 111 protocol error (24.011 Annex E, permanent class); 300-305 ME failure / not allowed /
#: not supported / invalid PDU or text parameter, 310-313 SIM missing / PIN / failure,
#: 320-322 memory, 330 SMSC address unknown, 340 no +CNMA expected, 500 unknown error and
#: 512+ manufacturer specific (27.005 §3.2.5: no promise that a retry behaves differently).


def is_transient_cms(code: int | None) -> bool:
    """True for a `+CMS ERROR` cause that a later attempt may get past (`TRANSIENT_CMS`)."""
    return code is not None and code in TRANSIENT_CMS


def cms_reason(code: int | None, text: str = "") -> str:
    """``"+CMS ERROR 330: SMSC address unknown"``; verbose (CMEE=2) text is kept as is."""
    if code is None:
        return f"+CMS ERROR: {text or 'unknown'}"
    known = CMS_REASONS.get(code)
    if known is None and code >= 512:
        known = "manufacturer-specific error"
    return f"+CMS ERROR {code}: {known or 'unknown cause'}"
