"""Hypothesis properties of the codec: round trips, part limits, and total robustness."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from smsgw.exceptions import PduError
from smsgw.pdu import (
    Deliver,
    Submit,
    count_parts,
    decode,
    encode_deliver,
    encode_submit,
    gsm7,
    join_texts,
    split_text,
)
from smsgw.pdu.segment import PART_LIMIT, SINGLE_LIMIT

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

GSM7_CHARS = gsm7.DEFAULT_ALPHABET.replace("\x1b", "") + "".join(gsm7.EXTENSION_TABLE.values())
EMOJI = "😀😎🎉👍🏽🇷🇴𝄞🀄"
# Any Unicode (astral planes included), weighted towards the characters that matter here.
characters = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(GSM7_CHARS),
    st.sampled_from("€[]{}~\\|^\x0c"),
    st.sampled_from(EMOJI),
)
texts = st.text(characters, max_size=420)
gsm7_texts = st.text(st.sampled_from(GSM7_CHARS), max_size=500)


def _part_texts(hexes: list[str]) -> list[str]:
    out = []
    for hex_pdu in hexes:
        pdu = decode(hex_pdu)
        assert isinstance(pdu, Deliver | Submit)
        assert pdu.text is not None
        out.append(pdu.text)
    return out


@SETTINGS
@given(text=texts, srr=st.booleans(), reference=st.integers(0, 255))
@example(text="€" * 81, srr=False, reference=0)
@example(text="a" * 152 + "😀" * 10, srr=True, reference=255)
def test_submit_round_trip(text: str, srr: bool, reference: int) -> None:
    parts = encode_submit("+40721000000", text, srr=srr, reference=reference, concat_ref=200)
    decoded = [decode(part.hex) for part in parts]
    assert join_texts(_part_texts([part.hex for part in parts])) == text
    for index, pdu in enumerate(decoded):
        assert isinstance(pdu, Submit)
        assert pdu.reference == (reference + index) % 256
        assert pdu.srr is srr
        assert pdu.encoding == ("gsm7" if gsm7.can_encode(text) else "ucs2")
        if len(parts) > 1:
            assert pdu.concat is not None
            assert (pdu.concat.ref, pdu.concat.total, pdu.concat.seq) == (
                200,
                len(parts),
                index + 1,
            )


@SETTINGS
@given(text=texts, sender=st.sampled_from(["+40721000000", "1234", "Vodafone", "O2"]))
def test_deliver_round_trip(text: str, sender: str) -> None:
    scts = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    parts = encode_deliver(sender, text, scts, concat_ref=7)
    assert join_texts(_part_texts([part.hex for part in parts])) == text
    first = decode(parts[0].hex)
    assert isinstance(first, Deliver)
    assert (first.number, first.scts) == (sender, scts)


def _user_data_length(hex_pdu: str, tpdu_length: int) -> int:
    """TP-UDL read straight from the encoded octets (independent of our decoder)."""
    pdu = bytes.fromhex(hex_pdu)
    tpdu = pdu[len(pdu) - tpdu_length :]
    address_octets = (tpdu[2] + 1) // 2
    return tpdu[2 + 2 + address_octets + 2]  # FO MR | DA len, TOA, digits | PID DCS | UDL


@SETTINGS
@given(text=st.one_of(texts, gsm7_texts))
def test_parts_never_exceed_the_limits_nor_split_pairs(text: str) -> None:
    encoding, pieces = split_text(text)
    assert "".join(pieces) == text
    for piece in pieces:
        # A split surrogate pair or escape pair would not survive a strict round trip.
        piece.encode("utf-16-be")
        if encoding == "gsm7":
            assert gsm7.septets_to_text(gsm7.text_to_septets(piece)) == piece
    limit = (SINGLE_LIMIT if len(pieces) == 1 else PART_LIMIT)[encoding]
    parts = encode_submit("+40721000000", text, concat_ref=1)
    assert len(parts) == len(pieces) == count_parts(text).parts
    for piece, part in zip(pieces, parts, strict=True):
        udl = _user_data_length(part.hex, part.tpdu_length)
        if encoding == "gsm7":
            assert gsm7.septet_length(piece) <= limit
            assert udl <= 160  # septets, header included
        else:
            assert len(piece.encode("utf-16-be")) // 2 <= limit
            assert udl <= 140  # octets, header included


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=180), smsc_included=st.booleans())
def test_random_bytes_only_ever_raise_pdu_error(data: bytes, smsc_included: bool) -> None:
    with contextlib.suppress(PduError):
        decode(data, smsc_included=smsc_included)


VALID = [
    encode_submit("+40721000000", "Hello {world} €", srr=True, smsc="+40722270333")[0].hex,
    encode_submit("+40721000000", "ł" * 80, concat_ref=3)[0].hex,
    encode_deliver("Vodafone", "x" * 200, datetime(2025, 1, 2, tzinfo=UTC), concat_ref=4)[0].hex,
    "07914487200030230406D04F59040000601191806243009F4F990E947DD741EEF71D840EDB",
    "07911614786007F006060B911634092142F4019071011000040190710110450400060000",
]


@settings(max_examples=400, deadline=None)
@given(
    base=st.sampled_from(VALID),
    edits=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=4),
    cut=st.integers(0, 200),
)
def test_damaged_real_pdus_only_ever_raise_pdu_error(
    base: str, edits: list[tuple[int, int]], cut: int
) -> None:
    pdu = bytearray.fromhex(base)
    for position, value in edits:
        if position < len(pdu):
            pdu[position] = value
    with contextlib.suppress(PduError):
        decode(bytes(pdu[: max(cut, 1)]))


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_any_string_input_only_ever_raises_pdu_error(text: str) -> None:
    with contextlib.suppress(PduError):
        decode(text)
