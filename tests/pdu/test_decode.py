"""Decoding details: damage we tolerate, damage we refuse (with what and where), and the
field rules (addresses, time stamps, DCS groups, UDH) that real PDUs exercise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smsgw.exceptions import PduError
from smsgw.pdu import Deliver, StatusReport, Submit, decode, encode_deliver, gsm7, join_texts

SCTS = datetime(2024, 2, 8, 14, 26, 40, tzinfo=UTC)
# Layout of _deliver(): SMSC 00 | FO | OA 0B 91 + 6 | PID | DCS | SCTS x7 | UDL | UD
FO, DCS, SCTS_AT, UDL, UD = 1, 11, 12, 19, 20


def _deliver(text: str = "hello", **options: object) -> bytearray:
    [part] = encode_deliver("+40721000000", text, SCTS, **options)  # type: ignore[arg-type]
    return bytearray.fromhex(part.hex)


def _decode_deliver(pdu: bytes | str, **options: bool) -> Deliver:
    result = decode(pdu, **options)
    assert isinstance(result, Deliver)
    return result


def test_hex_may_be_lowercase_padded_or_quoted() -> None:
    pdu = _deliver().hex()
    assert _decode_deliver(f'  {pdu.lower()}"\r\n').text == "hello"


def test_bare_tpdu_without_smsc_field() -> None:
    pdu = _deliver()
    result = _decode_deliver(bytes(pdu[1:]), smsc_included=False)
    assert (result.smsc, result.text, result.tpdu_length) == (None, "hello", len(pdu) - 1)


@pytest.mark.parametrize(
    ("pdu", "message"),
    [
        ("", "empty"),
        ("0", "odd number of digits"),
        ("00g4", "not hex: 'g' at character 2"),
        ("00", "TPDU first octet: PDU ends at offset 1"),
        ("0003", "TP-MTI 3 is reserved"),
        ("000400", "TP-OA type-of-address: PDU ends at offset 3"),
        ("00040B91", "TP-OA (11 semi-octets from offset 2): needs 6 octets at offset 4 but only 0"),
    ],
)
def test_unusable_input_says_what_and_where(pdu: str, message: str) -> None:
    with pytest.raises(PduError, match=message.replace("(", r"\(").replace(")", r"\)")):
        decode(pdu)


def test_udl_longer_than_the_data_decodes_what_is_there() -> None:
    pdu = _deliver("hello")
    pdu[UDL] = 160
    result = _decode_deliver(bytes(pdu))
    assert (result.text, result.truncated) == ("hello", True)
    assert _decode_deliver(bytes(_deliver("hello"))).truncated is False


def test_trailing_garbage_after_the_user_data_is_ignored() -> None:
    pdu = _deliver("hello") + bytes.fromhex("FFFF00")
    result = _decode_deliver(bytes(pdu))
    assert (result.text, result.truncated) == ("hello", False)
    assert result.tpdu_length == len(pdu) - 1  # what +CMGR should have said


def test_ucs2_with_odd_octet_count_drops_the_half_character() -> None:
    pdu = _deliver("zł") + b"\x00"
    pdu[UDL] += 1
    result = _decode_deliver(bytes(pdu))
    assert (result.text, result.truncated) == ("zł", True)


def test_cut_short_udh_is_an_error_naming_the_offset() -> None:
    pdu = _deliver("hello")
    pdu[FO] |= 0x40  # UDHI on a PDU whose first UD octet (0xE8) is not a header length
    with pytest.raises(PduError, match=rf"UDH length 232 at offset {UD} but only 4 octets follow"):
        decode(bytes(pdu))


def test_udh_ie_overrunning_the_header_is_an_error() -> None:
    ud = bytes.fromhex("0400050102") + b"\x00\x41"  # IE 00 says 5 octets, header has 2
    pdu = _deliver("zz")
    pdu[FO] |= 0x40
    pdu[UDL:] = bytes((len(ud),)) + ud
    pdu[DCS] = 0x08
    with pytest.raises(PduError, match=r"IE 0x00 at offset 21 says 5 octets"):
        decode(bytes(pdu))


def test_unknown_ies_are_skipped_and_a_zero_sequence_ignored() -> None:
    # UDHL 10 | IE 70 (unknown) | concat IE with seq 0 | IE 24 (empty) | "A"
    ud = bytes.fromhex("0A" + "7001FF" + "0003AA0300" + "2400") + "A".encode("utf-16-be")
    pdu = _deliver("zz", encoding="ucs2")
    pdu[FO] |= 0x40
    pdu[UDL:] = bytes((len(ud),)) + ud
    result = _decode_deliver(bytes(pdu))
    assert (result.text, result.concat) == ("A", None)  # seq 0: the IE must be ignored


def test_16bit_reference_and_fill_bits() -> None:
    # GSM-7 after a 7-octet UDH: the header fills exactly 8 septets, no fill bit needed.
    pdu = bytearray.fromhex("0044" + "0B910427010000F0" + "0000" + "42802041622400")
    text = "Part"
    body = bytes.fromhex("06080412340201") + gsm7.pack(gsm7.text_to_septets(text), 0)
    pdu += bytes((8 + len(text),)) + body
    result = _decode_deliver(bytes(pdu))
    assert result.text == text
    assert result.concat is not None
    assert (result.concat.ref, result.concat.total, result.concat.seq, result.concat.ref_bits) == (
        0x1234,
        2,
        1,
        16,
    )


# ------------------------------------------------------------------- time stamps


@pytest.mark.parametrize(
    ("zone_octet", "offset"),
    [
        ("00", timedelta(0)),
        ("80", timedelta(hours=2)),  # +8 quarters
        ("08", timedelta(0)),  # "-0"
        ("29", timedelta(hours=-3)),  # -12 quarters
        ("4A", timedelta(hours=-6)),  # low nibble A: sign bit + tens 2, high nibble 4: -24
        ("C2", timedelta(hours=8)),  # non-BCD nibble C read as 12 (captured from a modem)
    ],
)
def test_time_zone_quarters_and_sign(zone_octet: str, offset: timedelta) -> None:
    pdu = _deliver()
    pdu[SCTS_AT + 6] = int(zone_octet, 16)
    assert _decode_deliver(bytes(pdu)).scts.utcoffset() == offset


@pytest.mark.parametrize(
    ("year_octet", "year"), [("99", 1999), ("07", 1970), ("96", 2069), ("00", 2000)]
)
def test_two_digit_year_window(year_octet: str, year: int) -> None:
    pdu = _deliver()
    pdu[SCTS_AT] = int(year_octet, 16)
    assert _decode_deliver(bytes(pdu)).scts.year == year


def test_impossible_date_is_an_error_with_the_raw_octets() -> None:
    pdu = _deliver()
    pdu[SCTS_AT + 1] = 0x31  # month 13
    with pytest.raises(PduError, match=rf"TP-SCTS at offset {SCTS_AT} is not a valid date \(4231"):
        decode(bytes(pdu))


# ------------------------------------------------------------------- data coding


@pytest.mark.parametrize(
    ("dcs", "encoding", "message_class"),
    [
        (0x00, "gsm7", None),
        (0x10, "gsm7", 0),
        (0x11, "gsm7", 1),
        (0x19, "ucs2", 1),
        (0x04, "8bit", None),
        (0x16, "8bit", 2),
        (0x48, "ucs2", None),  # automatic-deletion group
        (0xC0, "gsm7", None),  # message waiting, discard
        (0xD8, "gsm7", None),  # message waiting, store
        (0xE0, "ucs2", None),
        (0xF1, "gsm7", 1),
        (0xFB, "gsm7", 3),
        (0xF4, "8bit", 0),
    ],
)
def test_dcs_groups(dcs: int, encoding: str, message_class: int | None) -> None:
    text = "zł" if encoding == "ucs2" else "hello"
    pdu = _deliver(text, encoding="ucs2" if encoding == "ucs2" else "gsm7")
    pdu[DCS] = dcs
    result = _decode_deliver(bytes(pdu))
    assert (result.encoding, result.message_class, result.dcs) == (encoding, message_class, dcs)
    if encoding != "8bit":
        assert result.text == text


@pytest.mark.parametrize(
    ("dcs", "reason"),
    [
        (0x0C, "reserved alphabet"),
        (0x20, "compressed"),
        (0x80, "reserved coding group"),
        (0xB4, "reserved"),
    ],
)
def test_reserved_or_compressed_dcs_is_refused(dcs: int, reason: str) -> None:
    pdu = _deliver()
    pdu[DCS] = dcs
    with pytest.raises(PduError, match=rf"TP-DCS 0x{dcs:02X} at offset {DCS}: .*{reason}"):
        decode(bytes(pdu))


# ------------------------------------------------------------------- addresses


def test_address_rules() -> None:
    # Alphanumeric: the length counts semi-octets of packed septets; 6 -> 3 septets.
    o2 = _decode_deliver("07914487200030230406D04F5904000060119180624300" + "00")
    assert o2.number == "O2_"  # septet 3 is 0x11 '_' (gammu agrees there are 3 septets)
    # An even semi-octet count can leave a whole zero septet of padding: not an '@'.
    [part] = encode_deliver("Shop", "x", SCTS)
    assert _decode_deliver(part.hex).number == "Shop"
    # Semi-octets A/B are '*' and '#' (TS 23.040 §9.1.2.3), F is filler.
    report = decode("0006010581A1B2F3" + "42802041622400" * 2 + "00")
    assert isinstance(report, StatusReport)
    assert report.number == "1*2#3"


def test_lone_surrogates_from_split_parts_join_back() -> None:
    smiley = "😀".encode("utf-16-be")
    halves = []
    for chunk in (smiley[:2], smiley[2:]):
        pdu = _deliver("zz", encoding="ucs2")
        pdu[UDL:] = bytes((2,)) + chunk
        halves.append(_decode_deliver(bytes(pdu)).text or "")
    assert halves == ["\ud83d", "\ude00"]
    assert join_texts(halves) == "😀"


def test_submit_with_enhanced_validity_is_read() -> None:
    # VPF 01 (enhanced), functionality 0x02 = relative in seconds: 0x3C = 60 s.
    pdu = "0009000B910427010000F00000023C00000000000131"
    result = decode(pdu)
    assert isinstance(result, Submit)
    assert (result.validity, result.text) == (timedelta(seconds=60), "1")
