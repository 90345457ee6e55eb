"""PDU decode throughput: a full 160-character GSM-7 DELIVER and a 70-character UCS-2 one.

These are the two single-part worst cases the inbound path sees (most septets to unpack,
most code units to decode); a gateway reading a full SIM (~50 messages) or a burst of
+CMT URCs needs thousands per second at most, so the target is generous.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bench.common import Result, rate_per_second
from smsgw.pdu import decode, encode_deliver

BATCH = 2000
TARGET = ">= 5,000 PDUs/s"


def _pdu(text: str) -> str:
    [part] = encode_deliver(
        "+40721000000", text, datetime(2024, 2, 8, 14, 26, 40, tzinfo=UTC), smsc="+40722270333"
    )
    return part.hex


def _measure(name: str, hex_pdu: str, chars: int) -> Result:
    def batch() -> None:
        for _ in range(BATCH):
            decode(hex_pdu)

    batch()  # warm-up
    rate = rate_per_second(batch, items=BATCH)
    return Result(
        name=name,
        value=rate,
        unit="PDUs/s",
        target=TARGET,
        detail={"chars": chars, "octets": len(hex_pdu) // 2, "batch": BATCH},
    )


def run() -> list[Result]:
    gsm7_text = ("The quick brown fox jumps over the lazy dog 0123456789 " * 3)[:160]
    ucs2_text = ("Съешь же ещё этих мягких французских булок, да выпей чаю! " * 2)[:70]
    return [
        _measure("pdu_decode gsm7 DELIVER 160 chars", _pdu(gsm7_text), len(gsm7_text)),
        _measure("pdu_decode ucs2 DELIVER 70 chars", _pdu(ucs2_text), len(ucs2_text)),
    ]
