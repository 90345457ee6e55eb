"""Checks on what clients send (the REST API and the web inbox alike), turned into clear
422 answers.

Everything a client controls passes through here before it reaches the gateway's queue or
the database, so a strange string can never turn into a 5xx further down (PostgreSQL refuses
NUL characters, UTF-8 encoders refuse lone surrogates).
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from smsgw.exceptions import PduError
from smsgw.pdu import Encoding, PartCount, count_parts

__all__ = [
    "EmptyText",
    "InvalidInput",
    "TooManyParts",
    "check_text",
    "normalise_number",
    "normalise_peer",
    "plain_string",
]

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "it is not a number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}


class InvalidInput(Exception):
    """A request value the API refuses: answered as 422 with `detail`."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class EmptyText(InvalidInput):
    """The text is empty or blank (a separate class so a form can phrase it its own way)."""


class TooManyParts(InvalidInput):
    """The text needs more SMS parts than `limits.max_parts` allows."""

    def __init__(self, detail: str, *, parts: int, limit: int) -> None:
        super().__init__(detail)
        self.parts = parts
        self.limit = limit


def plain_string(field: str, value: str) -> str:
    """`value` unchanged, or InvalidInput when no database or modem could take it."""
    if "\x00" in value:
        raise InvalidInput(f"{field}: contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{field}: contains invalid Unicode (a lone surrogate)") from None
    return value


def normalise_number(raw: str, region: str, *, field: str = "to") -> str:
    """E.164 form of `raw`; national numbers are read as numbers of `region`, and refused
    when `region` is empty (a guessed country would send the text to a stranger)."""
    text = plain_string(field, raw).strip()
    if not text:
        raise InvalidInput(f"{field}: the phone number is empty")
    try:
        number = phonenumbers.parse(text, region or None)
    except NumberParseException as exc:
        national = not text.startswith("+")
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE and national and not region:
            raise InvalidInput(
                f"{field}: {raw!r} has no +country code and api.default_region is not set: "
                "write it as +<country code><number>, or set api.default_region "
                '(default_region = "RO" under [api], or SMSGW_API__DEFAULT_REGION=RO)'
            ) from None
        reason = _PARSE_REASONS.get(exc.error_type, "not a phone number")
        raise InvalidInput(f"{field}: {raw!r} is not a phone number: {reason}") from None
    if not phonenumbers.is_valid_number(number):
        hint = (
            f" (numbers without +country code are read as {region} numbers)"
            if not text.startswith(("+", "00"))
            else ""
        )
        raise InvalidInput(f"{field}: {raw!r} is not a valid phone number{hint}")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def normalise_peer(raw: str, region: str) -> str:
    """A `peer` filter: E.164 when it is a valid number, else as given (alphanumeric senders
    such as "BANK" are peers too)."""
    text = plain_string("peer", raw).strip()
    try:
        return normalise_number(text, region, field="peer")
    except InvalidInput:
        return text


def check_text(text: str, max_parts: int, encoding: Encoding | None = None) -> PartCount:
    """How `text` will be split; InvalidInput when it is empty or too long, or when a forced
    `encoding` cannot carry it (the error names the first such character)."""
    plain_string("text", text)
    if not text.strip():
        raise EmptyText("text: the message is empty")
    try:
        count = count_parts(text, encoding)
    except PduError as exc:
        if encoding is not None:
            raise InvalidInput(f"text: cannot be sent as {encoding}: {exc}") from None
        raise InvalidInput(f"text: cannot be encoded as SMS: {exc}") from None
    if count.parts > max_parts:
        raise TooManyParts(
            f"text: needs {count.parts} SMS parts ({count.encoding}, {count.units_used} "
            f"characters); the limit is limits.max_parts = {max_parts}",
            parts=count.parts,
            limit=max_parts,
        )
    return count
