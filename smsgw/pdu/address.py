"""Addresses (TS 23.040 §9.1.2.5) and the SMSC field (TS 24.011 RP-address).

Numbers are BCD semi-octets, swapped within each octet, padded with F. The type-of-address
octet says whether to show a leading '+' (international) or to read the digits as packed
GSM-7 text (alphanumeric senders such as "Vodafone").
"""

from __future__ import annotations

from smsgw.exceptions import PduError
from smsgw.pdu import gsm7
from smsgw.pdu.reader import OctetReader

TOA_INTERNATIONAL = 0x91
TOA_UNKNOWN = 0x81
TOA_ALPHANUMERIC = 0xD0
_TON_MASK = 0x70
_TON_INTERNATIONAL = 0x10
_TON_ALPHANUMERIC = 0x50

# TS 23.040 §9.1.2.3: semi-octets 0xA-0xE are '*', '#', 'a', 'b', 'c'; 0xF is filler.
_BCD_DIGITS = "0123456789*#abc"
_DIGIT_VALUE = {char: value for value, char in enumerate(_BCD_DIGITS)}
_DIALABLE = frozenset("0123456789*#")  # what we write; a/b/c are decoded but never sent
MAX_DIGITS = 20
MAX_ALPHANUMERIC = 11
MAX_SMSC_OCTETS = 11  # TOA + up to 20 digits (TS 24.011 RP-address)


def decode_bcd(octets: bytes, digits: int) -> str:
    """The first `digits` semi-octets (low nibble first); a stray F filler is dropped."""
    out: list[str] = []
    for octet in octets:
        for nibble in (octet & 0x0F, octet >> 4):
            if len(out) < digits and nibble != 0x0F:
                out.append(_BCD_DIGITS[nibble])
    return "".join(out)


def encode_bcd(digits: str) -> bytes:
    values = [_DIGIT_VALUE[char] for char in digits]
    if len(values) % 2:
        values.append(0x0F)
    return bytes(values[i] | (values[i + 1] << 4) for i in range(0, len(values), 2))


def _format(toa: int, digits: str) -> str:
    return "+" + digits if toa & _TON_MASK == _TON_INTERNATIONAL else digits


def read_address(reader: OctetReader, field: str) -> str:
    """TP-OA/TP-DA/TP-RA: length in semi-octets (digits), then TOA, then the value."""
    start = reader.offset
    length = reader.octet(f"{field} length")
    if length > MAX_DIGITS:
        raise PduError(
            f"{field} length {length} at offset {start} exceeds {MAX_DIGITS} semi-octets"
        )
    toa = reader.octet(f"{field} type-of-address")
    value = reader.take((length + 1) // 2, f"{field} ({length} semi-octets from offset {start})")
    if toa & _TON_MASK == _TON_ALPHANUMERIC:
        # The length counts semi-octets of the packed septets: 0x14 -> 10 octets -> 11 chars.
        text = gsm7.septets_to_text(gsm7.unpack(value, length * 4 // 7))
        return text.rstrip("@")  # a whole zero septet here is padding, not a real '@'
    return _format(toa, decode_bcd(value, length))


def read_smsc(reader: OctetReader) -> str | None:
    """The SMSC field: length in *octets* including the TOA; 00 means "use the default"."""
    start = reader.offset
    length = reader.octet("SMSC length")
    if length == 0:
        return None
    if length > MAX_SMSC_OCTETS:
        raise PduError(f"SMSC length {length} at offset {start} exceeds {MAX_SMSC_OCTETS} octets")
    toa = reader.octet("SMSC type-of-address")
    value = reader.take(length - 1, f"SMSC address ({length} octets from offset {start})")
    return _format(toa, decode_bcd(value, 2 * len(value)))


def _split_number(number: str, what: str) -> tuple[int, str]:
    """'+4072...' -> (0x91, '4072...'); '0721...' -> (0x81, '0721...'); checks the digits."""
    toa, digits = (
        (TOA_INTERNATIONAL, number[1:]) if number.startswith("+") else (TOA_UNKNOWN, number)
    )
    if not digits or len(digits) > MAX_DIGITS or any(c not in _DIALABLE for c in digits):
        raise PduError(
            f"{what} {number!r} is not a phone number "
            f"(expected an optional '+' and 1-{MAX_DIGITS} digits, '*' or '#')"
        )
    return toa, digits


def is_alphanumeric(number: str) -> bool:
    """True for sender names such as "Vodafone" (anything that is not a dialable number)."""
    digits = number[1:] if number.startswith("+") else number
    return not digits or any(c not in _DIALABLE for c in digits)


def encode_address(number: str, what: str = "number") -> bytes:
    """TP-DA/TP-OA/TP-RA octets for a dialable number."""
    toa, digits = _split_number(number, what)
    return bytes((len(digits), toa)) + encode_bcd(digits)


def encode_alphanumeric(name: str) -> bytes:
    """TP-OA for a sender name: packed GSM-7, length in used semi-octets (max 11 chars)."""
    septets = gsm7.text_to_septets(name)
    if not septets or len(septets) > MAX_ALPHANUMERIC:
        raise PduError(
            f"alphanumeric sender {name!r} must be 1-{MAX_ALPHANUMERIC} GSM-7 septets long"
        )
    packed = gsm7.pack(septets)
    semi_octets = (7 * len(septets) + 3) // 4
    return bytes((semi_octets, TOA_ALPHANUMERIC)) + packed


def encode_smsc(smsc: str | None) -> bytes:
    """SMSC field; None -> 00 (the modem uses the SMSC stored with AT+CSCA)."""
    if smsc is None:
        return b"\x00"
    toa, digits = _split_number(smsc, "SMSC")
    body = encode_bcd(digits)
    return bytes((len(body) + 1, toa)) + body
