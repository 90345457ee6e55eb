"""UCS-2 user data, read and written as UTF-16BE so astral characters (emoji) survive.

A sender may split a surrogate pair across two parts; each part then decodes to a string
ending (or starting) with a lone surrogate, kept as-is with "surrogatepass" so that
`join_texts` can rebuild the character when the parts are reassembled.
"""

from __future__ import annotations

from collections.abc import Iterable

_ASTRAL = 0x10000


def code_units(char: str) -> int:
    """UTF-16 code units of one character: 2 above the BMP, else 1."""
    return 2 if ord(char) >= _ASTRAL else 1


def encode(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def decode(data: bytes) -> str:
    return data[: len(data) // 2 * 2].decode("utf-16-be", "surrogatepass")


def join_texts(parts: Iterable[str]) -> str:
    """Concatenate decoded parts, pairing surrogate halves split across part boundaries."""
    joined = "".join(parts)
    return joined.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "surrogatepass")
