"""USSD on the wire, pure: +CUSD lines (one or several lines long), request packing, and the
answer's text decoded from text, packed GSM-7 hex and UCS-2 hex."""

from __future__ import annotations

import pytest

from smsgw.at.parser import AtParser, Final, Line, Urc
from smsgw.at.ussd import decode_text, pack_request, parse_cusd
from smsgw.exceptions import AtResponseError

MULTI_LINE = b'\r\n+CUSD: 1,"1 Balance\r\n2 Offers\r\n3 Exit",15\r\n'


def test_multi_line_answer_is_one_urc_at_any_split() -> None:
    whole = AtParser().feed(MULTI_LINE)
    byte_by_byte = AtParser().feed_many([bytes([b]) for b in MULTI_LINE])
    expected = Urc(
        "+CUSD", '1,"1 Balance\n2 Offers\n3 Exit",15', '+CUSD: 1,"1 Balance\n2 Offers\n3 Exit",15'
    )
    assert whole == byte_by_byte == [expected]


def test_multi_line_answer_inside_the_reply_is_information_text() -> None:
    parser = AtParser()
    parser.expect('AT+CUSD=1,"*100#",15')
    events = parser.feed(b'\r\n+CUSD: 0,"a\r\nb",15\r\n\r\nOK\r\n')
    assert events == [Line('+CUSD: 0,"a\nb",15'), Final(events[1].kind, "OK")]  # type: ignore[union-attr]


def test_an_unclosed_quote_never_swallows_a_final_result() -> None:
    events = AtParser().feed(b'\r\n+CUSD: 0,"broken\r\nOK\r\n')
    assert isinstance(events[0], Urc)
    assert isinstance(events[1], Final)
    assert events[1].ok


@pytest.mark.parametrize(
    ("args", "status", "text", "dcs"),
    [
        ('0,"Credit: 5.00 EUR",15', 0, "Credit: 5.00 EUR", 15),
        ('1,"1 Balance, 2 Offers",15', 1, "1 Balance, 2 Offers", 15),
        ("2", 2, None, None),
        ('4,"",15', 4, "", 15),
        ('0," padded ",72', 0, " padded ", 72),
    ],
)
def test_parse_cusd(args: str, status: int, text: str | None, dcs: int | None) -> None:
    line = parse_cusd(args)
    assert (line.status, line.text, line.dcs) == (status, text, dcs)


def test_garbled_numbers_in_cusd_are_refused_or_dropped_not_crashed_on() -> None:
    with pytest.raises(AtResponseError):
        parse_cusd('²,"x",15')  # "²".isdigit() is True, int("²") raises
    assert parse_cusd('0,"x",١٥').dcs is None


@pytest.mark.parametrize(
    ("raw", "dcs", "packed", "expected"),
    [
        ("Credit: 5.00 EUR", 15, False, "Credit: 5.00 EUR"),
        # gammu's Huawei capture shape: packed GSM-7 in hex, DCS 15 (PROTOCOL.md §3.3.8)
        (pack_request("Your balance is 5.00"), 15, True, "Your balance is 5.00"),
        ("0053006F006C0064003A00200033002C00350030002020AC", 72, False, "Sold: 3,50 €"),
        ("0053006F006C0064003A00200033002C00350030002020AC", 72, True, "Sold: 3,50 €"),
        ("D83DDE00", 0x48, False, "😀"),  # surrogate pair decoded as one character
        ("1234", 15, False, "1234"),  # digits on a text firmware stay digits
        ("not hex", 15, True, "not hex"),  # already decoded by the firmware: kept
    ],
)
def test_decode_text(raw: str, dcs: int, packed: bool, expected: str) -> None:
    assert decode_text(raw, dcs, packed=packed) == expected


def test_pack_request_matches_the_known_huawei_spelling() -> None:
    assert pack_request("*100#") == "AA180C3602"
    assert pack_request("*133#") == "AAD86C3602"
