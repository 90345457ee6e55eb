"""The network's USSD side and the two ways modems spell USSD strings on the wire.

A `UssdService` decides what the network answers to a request; the session is the list of
earlier requests since the last final answer, so a menu service can answer "1" after
"*100#" differently from "1" alone. `FixedReplies` answers each code from a table and
ends the session; a menu service or control-socket commands can plug in here later
without touching the command handler.

Spelling (PROTOCOL.md §3.3.8): SIMCom sends and accepts the text itself (in the `AT+CSCS`
character set); Huawei sticks in their default `AT^USSDMODE=1` send and expect packed
GSM-7 as hex (`+CUSD: 0,"49B41C74...",15`, gammu flag F_ENCODED_USSD).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Protocol

from smsgw.exceptions import PduError
from smsgw.pdu import gsm7

#: DCS 15: GSM-7 default alphabet, language unspecified (the value captured everywhere).
USSD_DCS = 15


@dataclasses.dataclass(frozen=True, slots=True)
class UssdAnswer:
    """What the network says: `status` 0 = done, 1 = more input expected (a menu),
    2 = the network ended the session."""

    text: str
    status: int = 0


class UssdService(Protocol):
    """The network's USSD application."""

    def answer(self, session: Sequence[str], request: str) -> UssdAnswer:
        """Answer `request`, given the earlier requests of this session (oldest first)."""
        ...


@dataclasses.dataclass(frozen=True)
class FixedReplies:
    """One answer per code (`{"*100#": "Credit: 5.00 EUR"}`), `default` for the rest."""

    replies: Mapping[str, str] = dataclasses.field(default_factory=dict)
    default: str = "Credit: 5.00 EUR. Valid until 31/12/2026."

    def answer(self, session: Sequence[str], request: str) -> UssdAnswer:
        return UssdAnswer(self.replies.get(request, self.default), 0)


@dataclasses.dataclass(frozen=True)
class MenuTree:
    """A scripted USSD menu: each node has its text and, when it is a menu, its choices.

    `root` maps a service code to its first node; a node is `(text, {answer: node})`, and a
    node without choices is a final answer (the session ends there). An answer that is not
    a choice ends the session with `invalid`. JSON-friendly, so a file can hold the tree::

        {"*100#": ["1 Balance 2 Offers", {"1": ["Credit: 5.00 EUR", {}],
                                          "2": ["1 Data 2 Minutes", {"1": ["Done", {}]}]}]}
    """

    root: Mapping[str, MenuNode]
    invalid: str = "Invalid choice"
    unknown: str = "Unknown service code"

    def answer(self, session: Sequence[str], request: str) -> UssdAnswer:
        path = [*session, request]
        node = self.root.get(path[0])
        if node is None:
            return UssdAnswer(self.unknown, 0)
        for choice in path[1:]:
            node = node[1].get(choice)
            if node is None:
                return UssdAnswer(self.invalid, 0)
        text, choices = node
        return UssdAnswer(text, 1 if choices else 0)


#: `(text, {answer: node})`; a node without choices ends the session.
MenuNode = tuple[str, Mapping[str, "MenuNode"]]


def menu_from_json(document: object) -> MenuTree:
    """A `MenuTree` from parsed JSON (`{code: [text, {answer: [...]}]}`); ValueError if the
    shape is wrong."""

    def node(value: object) -> MenuNode:
        if isinstance(value, str):
            return (value, {})
        if (
            isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], str)
            and isinstance(value[1], dict)
        ):
            return (value[0], {str(k): node(v) for k, v in value[1].items()})
        raise ValueError(f"a USSD menu node is [text, {{answer: node}}] or text, not {value!r}")

    if not isinstance(document, dict):
        raise ValueError("a USSD menu file holds {code: node}")
    return MenuTree({str(code): node(value) for code, value in document.items()})


@dataclasses.dataclass(frozen=True)
class ScriptedReply:
    """Every request gets `text`; with `menu`, as a menu (m=1) that a second request ends
    with the same text (`smsgw emulator ussd --reply TEXT [--menu]`)."""

    text: str
    menu: bool = False

    def answer(self, session: Sequence[str], request: str) -> UssdAnswer:
        return UssdAnswer(self.text, 1 if self.menu and not session else 0)


def fixed_replies() -> UssdService:
    """The default service of a fresh emulator."""
    return FixedReplies()


def pack_hex(text: str) -> str:
    """Text as packed GSM-7 hex (PduError for characters outside the alphabet).

    7 spare bits at the end are filled with CR, as 23.038 §6.1.2.3.1 asks for USSD and as
    the captured Huawei answers show (so the receiver does not read an "@" there).
    """
    septets = gsm7.text_to_septets(text)
    if len(septets) % 8 == 7:
        septets.append(0x0D)
    return gsm7.pack(septets).hex().upper()


def unpack_hex(hex_text: str) -> str:
    """Packed GSM-7 hex back to text; ValueError when it is not hex.

    When the septets end exactly on an octet boundary with 7 spare bits, those bits are
    padding (zero, or CR as 23.038 recommends) and not a character.
    """
    data = bytes.fromhex(hex_text)
    count = len(data) * 8 // 7
    septets = gsm7.unpack(data, count)
    if len(data) % 7 == 0 and septets and septets[-1] in (0x00, 0x0D):
        septets = septets[:-1]
    return gsm7.septets_to_text(septets)


def encodable(text: str) -> bool:
    try:
        gsm7.text_to_septets(text)
    except PduError:
        return False
    return True
