"""GSM 7-bit default alphabet and extension table (TS 23.038 §6.2.1), septet packing.

Encoding works on *septet lists* so callers can count and split before packing; an
extension character is the two septets ESC (0x1B) + code and must never be split.
"""

from __future__ import annotations

from smsgw.exceptions import PduError

ESCAPE = 0x1B

# Index = septet value. 0x1B is the escape to the extension table (shown as NBSP-like space).
DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION_TABLE: dict[int, str] = {
    0x0A: "\x0c",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

_ENCODE: dict[str, tuple[int, ...]] = {
    char: (code,) for code, char in enumerate(DEFAULT_ALPHABET) if code != ESCAPE
}
_ENCODE.update({char: (ESCAPE, code) for code, char in EXTENSION_TABLE.items()})


def can_encode(text: str) -> bool:
    return all(char in _ENCODE for char in text)


def septet_length(text: str) -> int:
    """Septets `text` needs; raises PduError for a character outside GSM-7."""
    return sum(septet_costs(text))


def _codes(text: str) -> list[tuple[int, ...]]:
    """Per-character septet codes; raises PduError naming the first unencodable character."""
    codes = []
    for index, char in enumerate(text):
        code = _ENCODE.get(char)
        if code is None:
            raise PduError(
                f"character {char!r} (U+{ord(char):04X}) at position {index} "
                "is not in the GSM 7-bit alphabet"
            )
        codes.append(code)
    return codes


def septet_costs(text: str) -> list[int]:
    """Septets per character (1, or 2 for extension characters), for segmentation."""
    return [len(code) for code in _codes(text)]


def text_to_septets(text: str) -> list[int]:
    """Map text to septet values; raises PduError naming the first unencodable character."""
    return [septet for code in _codes(text) for septet in code]


_TO_TEXT = str.maketrans(dict(enumerate(DEFAULT_ALPHABET)))


def septets_to_text(septets: bytes | list[int]) -> str:
    """Map septet values to text. Unknown escapes show the base character, as TS 23.038 asks."""
    raw = bytes(septets)
    if ESCAPE not in raw:  # the common case, done by one C-level translate
        return raw.decode("latin-1").translate(_TO_TEXT)
    chars: list[str] = []
    escaped = False
    for septet in raw:
        if escaped:
            fallback = " " if septet == ESCAPE else DEFAULT_ALPHABET[septet]
            chars.append(EXTENSION_TABLE.get(septet, fallback))
            escaped = False
        elif septet == ESCAPE:
            escaped = True
        else:
            chars.append(DEFAULT_ALPHABET[septet])
    if escaped:  # a dangling escape at the very end: show it as the spec's space
        chars.append(" ")
    return "".join(chars)


def pack(septets: list[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB-first, after `fill_bits` zero bits (used to align after a UDH)."""
    value = 0
    for index, septet in enumerate(septets):
        value |= septet << (fill_bits + 7 * index)
    total_bits = fill_bits + 7 * len(septets)
    return value.to_bytes((total_bits + 7) // 8, "little")


def unpack(data: bytes, count: int, fill_bits: int = 0) -> bytes:
    """Unpack `count` septets starting `fill_bits` into `data`; the caller checks `count` fits."""
    value = int.from_bytes(data, "little") >> fill_bits
    return bytes([(value >> (7 * index)) & 0x7F for index in range(count)])
