"""Splitting one typed AT command line into commands, as a modem's command parser does.

Written independently of `smsgw.at` on purpose (the emulator must not share the driver's
understanding of AT). Handles V.250 basic commands glued together (`ATE0V1`), extended
commands chained with `;` (`AT+CMEE=1;+CREG=2`), and the four extended forms: action
(`AT+CGMI`), read (`AT+CPMS?`), test (`AT+CNMI=?`) and set (`AT+CNMI=2,1,0,1,0`).
"""

from __future__ import annotations

import dataclasses
import enum

EXTENDED_PREFIXES = "+^$*%#"


class Form(enum.Enum):
    ACTION = "action"
    READ = "read"
    TEST = "test"
    SET = "set"


class LineSyntaxError(ValueError):
    """The line is not valid AT syntax; the modem answers ERROR."""


@dataclasses.dataclass(frozen=True, slots=True)
class Command:
    """One command of a line: upper-case name (`+CMGS`, `E`, `&F`, `S0`), form and raw args."""

    name: str
    form: Form
    raw_args: str = ""

    def args(self) -> list[str | None]:
        """Comma-separated parameters, quotes removed; an empty parameter is None."""
        return split_args(self.raw_args)

    def quoted_flags(self) -> list[bool]:
        """Per parameter: was it a quoted string (text-mode numbers must be quoted)."""
        return [p.strip().startswith('"') for p in _split_outside_quotes(self.raw_args, ",")]


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    in_quotes = False
    for char in text:
        if char == '"':
            in_quotes = not in_quotes
        if char == sep and not in_quotes:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if in_quotes:
        raise LineSyntaxError(f"unbalanced quote in {text!r}")
    parts.append("".join(current))
    return parts


def split_args(raw: str) -> list[str | None]:
    """`2,1,,"SM"` -> ["2", "1", None, "SM"]."""
    if raw.strip() == "":
        return []
    values: list[str | None] = []
    for part in _split_outside_quotes(raw, ","):
        stripped = part.strip()
        if stripped == "":
            values.append(None)
        elif len(stripped) >= 2 and stripped[0] == '"' and stripped[-1] == '"':
            values.append(stripped[1:-1])
        else:
            values.append(stripped)
    return values


def _extended(body: str) -> Command:
    index = 1
    while index < len(body) and (body[index].isalnum() or body[index] in "_"):
        index += 1
    name = body[:index].upper()
    rest = body[index:]
    if rest == "":
        return Command(name, Form.ACTION)
    if rest == "?":
        return Command(name, Form.READ)
    if rest == "=?":
        return Command(name, Form.TEST)
    if rest.startswith("="):
        return Command(name, Form.SET, rest[1:])
    raise LineSyntaxError(f"bad extended command {body!r}")


def parse_line(line: str) -> list[Command]:
    """Commands in a line that starts with `AT` (case-insensitive); LineSyntaxError if not."""
    if len(line) < 2 or line[:2].upper() != "AT":
        raise LineSyntaxError(f"not an AT command: {line!r}")
    body = line[2:]
    commands: list[Command] = []
    position = 0
    while position < len(body):
        char = body[position]
        if char in " ;":
            position += 1
        elif char in EXTENDED_PREFIXES:
            end = position
            in_quotes = False
            while end < len(body) and (in_quotes or body[end] != ";"):
                if body[end] == '"':
                    in_quotes = not in_quotes
                end += 1
            if in_quotes:
                raise LineSyntaxError(f"unbalanced quote in {line!r}")
            commands.append(_extended(body[position:end]))
            position = end
        elif char.upper() == "D":
            commands.append(Command("D", Form.SET, body[position + 1 :]))
            position = len(body)
        elif char.upper() == "S" and position + 1 < len(body) and body[position + 1].isdigit():
            end = position + 1
            while end < len(body) and body[end].isdigit():
                end += 1
            name = "S" + body[position + 1 : end]
            if body[end : end + 1] == "?":
                commands.append(Command(name, Form.READ))
                end += 1
            elif body[end : end + 1] == "=":
                value_end = end + 1
                while value_end < len(body) and body[value_end].isdigit():
                    value_end += 1
                commands.append(Command(name, Form.SET, body[end + 1 : value_end]))
                end = value_end
            else:
                commands.append(Command(name, Form.ACTION))
            position = end
        elif char == "&" or char.isalpha():
            start = position
            position += 2 if char == "&" else 1
            name = body[start:position].upper()
            if len(name) == 2 and not name[1].isalpha():
                raise LineSyntaxError(f"bad basic command {body[start:]!r}")
            digits_start = position
            while position < len(body) and body[position].isdigit():
                position += 1
            commands.append(Command(name, Form.SET, body[digits_start:position]))
        else:
            raise LineSyntaxError(f"unexpected {char!r} in {line!r}")
    return commands
