"""gammu's AT test data (../shared/corpus/gammu): real +CMGR replies, corrupt ones, and the
exact PDUs gammu's encoder writes for a backup file.

at-sms/*.dump must decode (and agree with python-gammu's decoder except where gammu is
wrong, listed below); at-sms-failing/*.dump must raise PduError; at-sms-encode pairs are
reproduced byte for byte where gammu's encoding is lossless.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from smsgw.exceptions import PduError
from smsgw.pdu import (
    Deliver,
    Encoding,
    StatusReport,
    Submit,
    decode,
    encode_deliver,
    encode_submit,
)

gammu = pytest.importorskip("gammu")

# gammu-side quirks: dump -> why python-gammu's reading is not the reference here.
GAMMU_DIFFERS = {
    "14.dump": "DCS 0xF9 is GSM-7 class 1 (TS 23.038 group 1111, bit 3 reserved); gammu "
    "reads the reserved bit as UCS-2. The sender really wrote UCS-2 bytes, so our text "
    "is the (spec-correct) GSM-7 reading of them",
    "42.dump": "DCS 0xFB is GSM-7 class 3; gammu returns the packed octets as 8-bit data",
    "04.dump": "alphanumeric sender: gammu leaves septet 0x11 unmapped ('O2\\x11'); we map "
    "it through the GSM-7 table ('O2_', see test_address_rules)",
    "20.dump": "TP-UDHI set with TP-UDL 0: gammu refuses, we return an empty message",
}
GAMMU_TYPES = {"Deliver": Deliver, "Submit": Submit, "Status_Report": StatusReport}


def _pdu_line(path: Path) -> str:
    """The PDU line of a +CMGR reply: the line after the `+CMGR:` header."""
    lines = path.read_bytes().decode("latin-1").replace("\r", "\n").split("\n")
    header = next(i for i, line in enumerate(lines) if line.startswith("+CMGR"))
    return lines[header + 1].strip()


def _dumps(corpus_dir: Path, folder: str) -> list[Path]:
    found = sorted((corpus_dir / "gammu" / folder).glob("*.dump"))
    assert found, f"no dumps in {folder}"
    return found


def test_every_real_cmgr_reply_decodes_like_gammu(corpus_dir: Path) -> None:
    problems = []
    for path in _dumps(corpus_dir, "at-sms"):
        line = _pdu_line(path)
        ours = decode(line)  # a PduError here fails the test with the dump's own message
        if path.name in GAMMU_DIFFERS:
            continue
        theirs = gammu.DecodePDU(bytes.fromhex(line.strip('"')), SMSC=True)
        if not isinstance(ours, GAMMU_TYPES[theirs["Type"]]):
            problems.append(f"{path.name}: type {type(ours).__name__} vs {theirs['Type']}")
        if ours.number != theirs["Number"]:
            problems.append(f"{path.name}: number {ours.number!r} vs {theirs['Number']!r}")
        if isinstance(ours, Deliver | Submit):
            ours_body: Any = ours.text if ours.data is None else ours.data
            theirs_body = theirs["Text"]
            if ours.data is not None and ours.concat is None and isinstance(theirs_body, bytes):
                theirs_body = theirs_body[-len(ours.data) :]  # gammu keeps other UDH bytes
            if ours_body != theirs_body:
                problems.append(f"{path.name}: text {ours_body!r} vs {theirs_body!r}")
    assert not problems, "\n".join(problems)


def test_gammu_quirk_dumps_still_decode_as_the_spec_says(corpus_dir: Path) -> None:
    folder = corpus_dir / "gammu" / "at-sms"
    class_1 = decode(_pdu_line(folder / "14.dump"))
    assert isinstance(class_1, Submit)
    assert (class_1.encoding, class_1.message_class) == ("gsm7", 1)
    class_3 = decode(_pdu_line(folder / "42.dump"))
    assert isinstance(class_3, Deliver)
    assert (class_3.text, class_3.message_class) == ("1917812300     22:30   RATTHI", 3)
    empty = decode(_pdu_line(folder / "20.dump"))
    assert isinstance(empty, Submit)
    assert (empty.text, empty.concat) == ("", None)


def test_cmgr_length_is_not_needed(corpus_dir: Path) -> None:
    """Many headers carry a hand-edited <length>; decoding never looks at it, and our
    tpdu_length (octets after the SMSC field) is what the header should have said."""
    wrong = 0
    for path in _dumps(corpus_dir, "at-sms"):
        text = path.read_bytes().decode("latin-1")
        header = re.search(r"^\+CMGR: (?:[^\r\n]*,)?(\d+)\s*$", text, re.M)
        assert header, path.name
        line = _pdu_line(path)
        pdu = decode(line)
        smsc_octets = 1 + int(line[:2], 16)
        assert pdu.tpdu_length == len(line.strip('"')) // 2 - smsc_octets
        wrong += int(header[1]) != pdu.tpdu_length
    assert wrong >= 10  # the corpus really is full of wrong lengths


def test_every_corrupt_reply_is_a_pdu_error_with_a_location(corpus_dir: Path) -> None:
    for path in _dumps(corpus_dir, "at-sms-failing"):
        with pytest.raises(PduError) as caught:
            decode(_pdu_line(path))
        message = str(caught.value)
        assert re.search(r"offset \d+|character \d+|odd number", message), (path.name, message)


# ---------------------------------------------------------------- at-sms-encode pairs


@dataclass(frozen=True)
class BackupCase:
    name: str
    smsc: str
    number: str
    text: str
    unicode: bool
    sent: datetime | None
    expected_hex: str


def _field(backup: str, key: str) -> str | None:
    found = re.search(rf'^{key} = "?([^"\n]*)"?$', backup, re.M)
    return found[1] if found else None


def _cases(corpus_dir: Path) -> list[BackupCase]:
    cases = []
    for path in sorted((corpus_dir / "gammu" / "at-sms-encode").glob("*.backup")):
        backup = path.read_text(encoding="utf-8")
        text_hex = "".join(re.findall(r"^Text\d+ = (\S+)", backup, re.M))
        sent = _field(backup, "Sent")
        cases.append(
            BackupCase(
                name=path.name,
                smsc=_field(backup, "SMSC") or "",
                number=_field(backup, "Number") or "",
                text=bytes.fromhex(text_hex).decode("utf-16-be"),
                unicode=_field(backup, "Coding") == "Unicode",
                sent=datetime.strptime(sent, "%Y%m%dT%H%M%S").replace(tzinfo=UTC) if sent else None,
                expected_hex=path.with_suffix(".dump").read_text().strip(),
            )
        )
    return cases


def _encode_like_gammu(case: BackupCase, text: str) -> str:
    """gammu writes a SUBMIT with VP 0xFF (63 weeks), or a DELIVER with TP-MMS=0 when the
    backup has a sent date; both map onto our options."""
    encoding: Encoding = "ucs2" if case.unicode else "gsm7"
    if case.sent is None:
        parts = encode_submit(
            case.number, text, smsc=case.smsc, validity=timedelta(weeks=63), encoding=encoding
        )
    else:
        parts = encode_deliver(
            case.number,
            text,
            case.sent,
            smsc=case.smsc,
            encoding=encoding,
            more_messages_waiting=True,
        )
    return parts[0].hex


def test_gammu_encoder_pairs_are_reproduced(corpus_dir: Path) -> None:
    """Differences, by design:
    * "Coding = Default" with 'š' (not in GSM-7): gammu silently writes 's'; we refuse to
      send GSM-7 that loses characters (PduError), and auto-encoding would pick UCS-2.
    * The 177-character text: gammu truncates it into one 160-septet PDU; we would send
      two concatenated parts, so only the first 160 characters are compared.
    """
    cases = _cases(corpus_dir)
    assert len(cases) == 193
    exact = lossy = 0
    for case in cases:
        limit = 70 if case.unicode else 160
        if not case.unicode and "š" in case.text:
            with pytest.raises(PduError, match="'š'"):
                _encode_like_gammu(case, case.text)
            theirs = decode(case.expected_hex)
            assert isinstance(theirs, Deliver | Submit)
            assert theirs.text == case.text.replace("š", "s")
            lossy += 1
            continue
        assert _encode_like_gammu(case, case.text[:limit]) == case.expected_hex, case.name
        exact += 1
    assert (exact, lossy) == (161, 32)
