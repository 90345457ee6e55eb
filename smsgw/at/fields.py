"""The field grammar every information-line parser shares: prefixes, commas, numbers.

Firmwares put spaces after commas, quote some fields and not others, and nest value lists
in parentheses; these helpers absorb that once, so each command's parser only states its
fields. Pure: no I/O, no asyncio.
"""

from __future__ import annotations

import re

from smsgw.exceptions import AtResponseError

__all__ = [
    "NUMBER",
    "PREFIX",
    "integer",
    "optional_integer",
    "split_fields",
    "strip_prefix",
    "unquote",
]

PREFIX = re.compile(r"^\s*[+^*$%][A-Za-z0-9_]+\s*:\s?")
NUMBER = re.compile(r"^[0-9]{1,9}$")  # ASCII only: str.isdigit() accepts "¹" and "٣"


def strip_prefix(line: str, prefix: str | None = None) -> str:
    """Drop a leading ``+XXX:`` (only ``prefix`` if given) and surrounding blanks."""
    text = line.strip()
    if prefix is not None:
        if text.upper().startswith(prefix.upper()):
            return text[len(prefix) :].lstrip(" :").strip()
        return text
    return PREFIX.sub("", text, count=1).strip()


def split_fields(text: str) -> list[str]:
    """Split on commas outside double quotes; fields keep their quotes, lose outer blanks."""
    fields: list[str] = []
    current: list[str] = []
    quoted = False
    depth = 0
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth = max(0, depth - 1)
        elif char == "," and not quoted and depth == 0:
            fields.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    fields.append("".join(current).strip())
    return fields


def unquote(field: str) -> str:
    return field.strip().strip('"').strip()


def integer(field: str, what: str, line: str) -> int:
    value = unquote(field)
    if not NUMBER.match(value):
        raise AtResponseError(what, line)
    return int(value)


def optional_integer(field: str) -> int | None:
    value = unquote(field)
    return int(value) if NUMBER.match(value) else None
