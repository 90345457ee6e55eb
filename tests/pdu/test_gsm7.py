"""The GSM-7 tables and septet packing (TS 23.038 §6.1.2.1, §6.2.1)."""

from __future__ import annotations

import pytest

from smsgw.exceptions import PduError
from smsgw.pdu import gsm7


def test_default_table_has_128_entries_and_the_well_known_positions() -> None:
    table = gsm7.DEFAULT_ALPHABET
    assert len(table) == 128
    assert (table[0x00], table[0x02], table[0x10], table[0x11], table[0x5F], table[0x7F]) == (
        "@",
        "$",
        "Δ",
        "_",
        "§",  # python-gsmmodem gets this one wrong ('`')
        "à",
    )
    assert len(set(table)) == 128


def test_extension_characters_cost_two_septets() -> None:
    assert gsm7.text_to_septets("a€[") == [0x61, 0x1B, 0x65, 0x1B, 0x3C]
    assert gsm7.septet_costs("a€\x0c") == [1, 2, 2]
    assert gsm7.septet_length("{}") == 4


def test_unencodable_character_is_named_with_its_position() -> None:
    with pytest.raises(PduError, match=r"'`' \(U\+0060\) at position 2"):
        gsm7.text_to_septets("ab`")
    assert not gsm7.can_encode("ab`")
    assert gsm7.can_encode("ab€")


def test_unknown_escape_shows_the_base_character_and_dangling_escape_a_space() -> None:
    assert gsm7.septets_to_text(bytes([0x1B, 0x41, 0x42])) == "AB"
    assert gsm7.septets_to_text(bytes([0x41, 0x1B])) == "A "


@pytest.mark.parametrize(
    ("text", "packed"),
    [
        ("hellohello", "E8329BFD4697D9EC37"),  # the textbook example
        ("Test2", "D4F29C2E03"),
        ("1234567", "31D98C56B3DD00"),  # 7 septets: the last octet holds 1 bit
        ("12345678", "31D98C56B3DD70"),  # 8 septets fill 7 octets exactly
    ],
)
def test_pack_and_unpack(text: str, packed: str) -> None:
    septets = gsm7.text_to_septets(text)
    assert gsm7.pack(septets).hex().upper() == packed
    assert gsm7.septets_to_text(gsm7.unpack(bytes.fromhex(packed), len(septets))) == text


@pytest.mark.parametrize("fill", range(7))
def test_fill_bits_shift_the_septets(fill: int) -> None:
    septets = gsm7.text_to_septets("Fill bits!")
    packed = gsm7.pack(septets, fill)
    assert packed[0] & ((1 << fill) - 1) == 0  # the fill bits are zero
    assert list(gsm7.unpack(packed, len(septets), fill)) == septets
