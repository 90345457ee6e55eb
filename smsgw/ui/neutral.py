"""Text from the SIM and the network made harmless to *display*.

Sender names (alphanumeric originators), SMS text and operator names come from outside and
may hold control characters, ANSI escapes or Unicode bidi controls: a U+202E (RIGHT-TO-LEFT
OVERRIDE) in a sender name reverses what follows it on the page, so ``BANK\u202egnp.exe``
shows as ``BANKexe.png`` and a message can seem to say what it does not. HTML escaping
(Jinja's autoescape) does not touch them.

:func:`shown` replaces each such character with a visible stand-in; the templates also
wrap every outside string in ``<bdi>`` / ``dir="auto"``, so even a legitimate right-to-left
name (Arabic, Hebrew) cannot reorder the text around it. The database keeps the original:
this is only for display.
"""

from __future__ import annotations

__all__ = ["shown"]

#: Embeddings, overrides, isolates and the implicit marks (Unicode UAX #9) plus the
#: Arabic letter mark: every character that changes bidi ordering without being a letter.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
#: Kept as they are: line breaks and tabs are how SMS text is laid out (CSS pre-wrap).
_LAYOUT = frozenset("\n\r\t")
_DEL = "\x7f"


def _stand_in(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode "control pictures": ␛ for ESC, ␀ for NUL
    if char == _DEL:
        return "\u2421"
    return f"<U+{code:04X}>"


def _harmful(char: str) -> bool:
    code = ord(char)
    if char in _LAYOUT:
        return False
    return code < 0x20 or 0x7F <= code <= 0x9F or char in BIDI_CONTROLS


def shown(text: object) -> str:
    """`text` with control characters and bidi controls replaced by visible stand-ins."""
    value = "" if text is None else str(text)
    if not any(_harmful(char) for char in value):
        return value
    return "".join(_stand_in(char) if _harmful(char) else char for char in value)
