"""Encoding: SUBMIT/DELIVER/STATUS-REPORT built by us decode back to what went in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from smsgw.exceptions import PduError
from smsgw.pdu import (
    Deliver,
    StatusReport,
    Submit,
    count_parts,
    decode,
    encode_deliver,
    encode_status_report,
    encode_submit,
    join_texts,
    split_text,
)

EET = timezone(timedelta(hours=2))


def _submit(hex_pdu: str) -> Submit:
    pdu = decode(hex_pdu)
    assert isinstance(pdu, Submit)
    return pdu


def test_single_gsm7_submit_is_byte_exact() -> None:
    # Hand-assembled: 00 SMSC, 01 SUBMIT, MR 00, DA +40721000000, PID 00, DCS 00, UDL 5 "hello".
    [part] = encode_submit("+40721000000", "hello")
    assert part.hex == "0001000B910427010000F0000005E8329BFD06"
    assert part.tpdu_length == len(part.hex) // 2 - 1


def test_submit_options_are_visible_after_decoding() -> None:
    [part] = encode_submit(
        "0721000000",
        "hi",
        srr=True,
        reference=77,
        validity=timedelta(days=1),
        smsc="+40722270333",
        flash=True,
    )
    pdu = _submit(part.hex)
    assert (pdu.smsc, pdu.number, pdu.text) == ("+40722270333", "0721000000", "hi")
    assert pdu.srr is True
    assert pdu.reference == 77
    assert pdu.validity == timedelta(days=1)
    assert pdu.message_class == 0
    assert part.tpdu_length == len(part.hex) // 2 - 8  # SMSC field is 8 octets here


def test_absolute_validity_round_trips_with_its_offset() -> None:
    until = datetime(2026, 12, 24, 18, 30, tzinfo=EET)
    [part] = encode_submit("+40721000000", "x", validity=until)
    assert _submit(part.hex).validity == until


def test_relative_validity_rounds_up_to_the_next_step() -> None:
    [part] = encode_submit("+40721000000", "x", validity=timedelta(hours=25))
    assert _submit(part.hex).validity == timedelta(days=2)


def test_multipart_gsm7_has_concat_headers_and_consecutive_references() -> None:
    text = "".join(f"{i:04d} " for i in range(60))  # 300 septets -> 2 parts of <= 153
    parts = encode_submit("+40721000000", text, reference=255, concat_ref=42)
    decoded = [_submit(p.hex) for p in parts]
    assert [d.reference for d in decoded] == [255, 0]
    assert [d.concat for d in decoded if d.concat] == [
        d.concat for d in decoded
    ]  # every part has one
    assert [(c.ref, c.total, c.seq, c.ref_bits) for c in (d.concat for d in decoded) if c] == [
        (42, 2, 1, 8),
        (42, 2, 2, 8),
    ]
    assert "".join(d.text or "" for d in decoded) == text


def test_fresh_concat_reference_is_picked_when_none_is_given() -> None:
    refs = set()
    for _ in range(20):
        first = _submit(encode_submit("+40721000000", "x" * 200)[0].hex)
        assert first.concat is not None
        refs.add(first.concat.ref)
    assert len(refs) > 1


def test_emoji_text_is_ucs2_and_survives_the_split() -> None:
    text = "😀" * 40  # 80 code units -> 2 parts; a pair may never be cut
    parts = encode_submit("+40721000000", text, concat_ref=1)
    decoded = [_submit(p.hex) for p in parts]
    assert all(d.encoding == "ucs2" for d in decoded)
    assert join_texts(d.text or "" for d in decoded) == text
    assert all("\ud83d" not in (d.text or "")[-1:] for d in decoded)


@pytest.mark.parametrize(
    ("text", "encoding", "parts", "units", "per_part"),
    [
        ("", "gsm7", 1, 0, 160),
        ("a" * 160, "gsm7", 1, 160, 160),
        ("a" * 161, "gsm7", 2, 161, 153),
        ("€" * 80, "gsm7", 1, 160, 160),
        ("€" * 81, "gsm7", 2, 162, 153),
        ("a" * 152 + "€" * 4, "gsm7", 1, 160, 160),  # exactly one part
        ("a" * 152 + "€" + "b" * 7, "gsm7", 2, 161, 153),  # the escape pair moves to part 2
        ("ł" * 70, "ucs2", 1, 70, 70),
        ("ł" * 71, "ucs2", 2, 71, 67),
        ("😀" * 35, "ucs2", 1, 70, 70),
        ("ł" * 66 + "😀" + "ł" * 5, "ucs2", 2, 73, 67),  # the pair moves to part 2
    ],
)
def test_count_parts(text: str, encoding: str, parts: int, units: int, per_part: int) -> None:
    count = count_parts(text)
    assert (count.encoding, count.parts, count.units_used, count.units_per_part) == (
        encoding,
        parts,
        units,
        per_part,
    )
    chosen, pieces = split_text(text)
    assert chosen == encoding
    assert len(pieces) == parts
    assert "".join(pieces) == text


def test_escape_pair_is_never_split() -> None:
    _, pieces = split_text("a" * 152 + "€" + "b" * 7)
    assert pieces == ["a" * 152, "€" + "b" * 7]


def test_surrogate_pair_is_never_split() -> None:
    _, pieces = split_text("ł" * 66 + "😀" + "ł" * 5)
    assert pieces == ["ł" * 66, "😀" + "ł" * 5]


def test_forced_gsm7_with_foreign_character_names_it() -> None:
    with pytest.raises(PduError, match=r"'ł' \(U\+0142\) at position 3"):
        encode_submit("+40721000000", "abcł", encoding="gsm7")


def test_more_than_255_parts_is_refused() -> None:
    with pytest.raises(PduError, match="256 parts"):
        split_text("a" * (153 * 255 + 1))


@pytest.mark.parametrize("number", ["", "+", "Vodafone", "abc", "+40 721", "1" * 21, "12+3"])
def test_bad_recipient_is_a_pdu_error(number: str) -> None:
    with pytest.raises(PduError, match="not a phone number"):
        encode_submit(number, "x")


@pytest.mark.parametrize("reference", [-1, 256])
def test_reference_out_of_range(reference: int) -> None:
    with pytest.raises(PduError, match="0-255"):
        encode_submit("+40721000000", "x", reference=reference)


def test_8bit_submit_carries_utf8_bytes() -> None:
    [part] = encode_submit("+40721000000", "zł", encoding="8bit")
    pdu = _submit(part.hex)
    assert (pdu.text, pdu.data, pdu.encoding) == (None, "zł".encode(), "8bit")


@pytest.mark.parametrize(
    ("sender", "number"),
    [
        ("+40721000000", "+40721000000"),
        ("0721000000", "0721000000"),
        ("*100#", "*100#"),
        ("Vodafone", "Vodafone"),
        ("bac", "bac"),  # BCD has a/b/c semi-octets, but a name is what a sender means
    ],
)
def test_deliver_round_trip(sender: str, number: str) -> None:
    scts = datetime(2024, 2, 8, 14, 26, 40, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))
    [part] = encode_deliver(sender, "Hi, I need help", scts, smsc="+40722270333", message_class=1)
    pdu = decode(part.hex)
    assert isinstance(pdu, Deliver)
    assert (pdu.number, pdu.text, pdu.scts, pdu.smsc) == (
        number,
        "Hi, I need help",
        scts,
        "+40722270333",
    )
    assert pdu.scts.utcoffset() == scts.utcoffset()
    assert pdu.message_class == 1


def test_multipart_deliver_shares_one_reference() -> None:
    scts = datetime(2024, 2, 8, 14, 26, 40, tzinfo=UTC)
    parts = encode_deliver("+40721000000", "ł" * 100, scts, concat_ref=9)
    decoded = [decode(p.hex) for p in parts]
    concats = [d.concat for d in decoded if isinstance(d, Deliver)]
    assert [(c.ref, c.seq, c.total) for c in concats if c] == [(9, 1, 2), (9, 2, 2)]


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (0x00, "delivered"),
        (0x1F, "delivered"),
        (0x20, "pending"),
        (0x30, "pending"),
        (0x46, "expired"),
        (0x40, "failed"),
        (0x65, "failed"),
    ],
)
def test_status_report_round_trip_and_outcome(status: int, outcome: str) -> None:
    scts = datetime(2024, 2, 8, 14, 26, 40, tzinfo=EET)
    done = scts + timedelta(seconds=5)
    report = encode_status_report(143, "+40721000000", scts, done, status, smsc="+40722270333")
    pdu = decode(report.hex)
    assert isinstance(pdu, StatusReport)
    assert (pdu.reference, pdu.number, pdu.scts, pdu.discharge_time, pdu.status) == (
        143,
        "+40721000000",
        scts,
        done,
        status,
    )
    assert pdu.outcome == outcome
    assert pdu.tpdu_length == report.tpdu_length
