"""Choosing the alphabet and cutting a text into parts (TS 23.040 §9.2.3.24.1).

A part never ends between the two septets of a GSM-7 extension character or the two code
units of a surrogate pair: texts are split between *characters*, each costing its units.
Limits assume the 6-octet concatenation header with an 8-bit reference that the encoder
writes (153 septets / 67 code units / 134 octets per part).
"""

from __future__ import annotations

from smsgw.exceptions import PduError
from smsgw.pdu import gsm7, ucs2
from smsgw.pdu.model import Encoding, PartCount

MAX_PARTS = 255
SINGLE_LIMIT: dict[Encoding, int] = {"gsm7": 160, "ucs2": 70, "8bit": 140}
PART_LIMIT: dict[Encoding, int] = {"gsm7": 153, "ucs2": 67, "8bit": 134}


def choose_encoding(text: str) -> Encoding:
    """GSM-7 when every character fits (extension characters included), else UCS-2."""
    return "gsm7" if gsm7.can_encode(text) else "ucs2"


def _unit_costs(text: str, encoding: Encoding) -> list[int]:
    """Units each character costs: septets, UTF-16 code units or UTF-8 octets."""
    if encoding == "gsm7":
        return gsm7.septet_costs(text)  # raises PduError naming a foreign character
    if encoding == "ucs2":
        return [ucs2.code_units(char) for char in text]
    return [len(char.encode("utf-8", "surrogatepass")) for char in text]


def _split(text: str, encoding: Encoding) -> tuple[list[str], int]:
    """(parts, total units) without the part-count limit."""
    costs = _unit_costs(text, encoding)
    total = sum(costs)
    if total <= SINGLE_LIMIT[encoding]:
        return [text], total
    limit = PART_LIMIT[encoding]
    parts: list[str] = []
    start = used = 0
    for index, units in enumerate(costs):
        if used + units > limit:
            parts.append(text[start:index])
            start, used = index, 0
        used += units
    parts.append(text[start:])
    return parts, total


def split_text(text: str, encoding: Encoding | None = None) -> tuple[Encoding, list[str]]:
    """The alphabet and the parts the encoders use; at most 255 parts."""
    chosen = encoding or choose_encoding(text)
    if chosen not in SINGLE_LIMIT:
        raise PduError(f"unknown encoding {chosen!r} (expected gsm7, ucs2 or 8bit)")
    parts, _ = _split(text, chosen)
    if len(parts) > MAX_PARTS:
        raise PduError(
            f"text needs {len(parts)} parts in {chosen}; at most {MAX_PARTS} are possible"
        )
    return chosen, parts


def count_parts(text: str, encoding: Encoding | None = None) -> PartCount:
    """What `split_text` would do, for validation and live counters (no part-count limit).

    A forced `encoding` ("gsm7") raises PduError naming the first character it cannot carry.
    """
    encoding = encoding or choose_encoding(text)
    if encoding not in SINGLE_LIMIT:
        raise PduError(f"unknown encoding {encoding!r} (expected gsm7, ucs2 or 8bit)")
    parts, total = _split(text, encoding)
    per_part = SINGLE_LIMIT[encoding] if len(parts) == 1 else PART_LIMIT[encoding]
    return PartCount(encoding=encoding, parts=len(parts), units_used=total, units_per_part=per_part)
