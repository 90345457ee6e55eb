"""Values the device and its command handlers share: settings, an open prompt, failures."""

from __future__ import annotations

import dataclasses
from typing import Literal

from smsgw.emulator.storage import Stat


class CommandFailed(Exception):
    """A handler's error result: kind "cme"/"cms" with a code, "error", or "unknown"."""

    def __init__(self, kind: Literal["cme", "cms", "error", "unknown"], code: int = 0) -> None:
        super().__init__(f"{kind} {code}")
        self.kind = kind
        self.code = code


def int_arg(value: str | None, low: int, high: int) -> int:
    """A numeric parameter within [low, high]; anything else is a plain ERROR."""
    if value is None:
        raise CommandFailed("error")
    try:
        number = int(value)
    except ValueError:
        raise CommandFailed("error") from None
    if not low <= number <= high:
        raise CommandFailed("error")
    return number


@dataclasses.dataclass
class Settings:
    """Volatile settings: lost on ATZ/reboot (ATZ keeps nothing non-volatile either)."""

    echo: bool = True
    cmee: int = 0
    cmgf: int = 0
    cscs: str = "IRA"
    cnmi: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    cpms: tuple[str, str, str] = ("SM", "SM", "SM")
    creg: int = 0
    csms: int = 0
    csmp: tuple[int, int, int, int] = (17, 167, 0, 0)
    csdh: int = 0
    curc: int = 1


@dataclasses.dataclass
class Prompt:
    """An open `> ` prompt: what it is for and what was typed so far."""

    kind: Literal["cmgs", "cmgw"]
    pdu_length: int | None
    number: str | None
    stat: Stat
    typed: bytearray = dataclasses.field(default_factory=bytearray)
