"""`smsgw pdu decode` / `smsgw pdu encode` through typer's CliRunner (CONTRACT.md §4, §6)."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from smsgw.cli.main import app
from smsgw.pdu import decode

DELIVER = "07916407058099F9040B916407950303F100008921222140140004D4E2940A"
SUBMIT_SRR = "00218D0A91103254769800081800480065006C006C00F300200077006F0072014200640021"
REPORT = "0006230E9126983575169498610103409544C26101034095448200"
EIGHT_BIT = "0591721891F101000B917228214365F700040C48656C6C6F20776F726C6421"


def _run(*args: str, stdin: str | None = None) -> tuple[int, list[Any]]:
    result = CliRunner().invoke(app, ["pdu", *args], input=stdin)
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines() if line]


def test_decode_hex_argument_prints_the_contract_fields() -> None:
    code, [out] = _run("decode", DELIVER)
    assert code == 0
    assert out == {
        "type": "SMS-DELIVER",
        "smsc": "+46705008999",
        "number": "+46705930301",
        "text": "TEST",
        "data_hex": None,
        "encoding": "gsm7",
        "concat": None,
        "message_class": None,
        "truncated": False,
        "scts": "1998-12-22T12:04:41+00:00",
        "pid": 0,
        "dcs": 0,
        "tpdu_length": 23,
    }


def test_decode_submit_and_status_report_fields() -> None:
    code, [submit] = _run("decode", SUBMIT_SRR)
    assert code == 0
    assert (submit["type"], submit["number"], submit["text"]) == (
        "SMS-SUBMIT",
        "+0123456789",
        "Helló worłd!",
    )
    assert (submit["reference"], submit["srr"], submit["validity"], submit["tpdu_length"]) == (
        141,
        True,
        None,
        36,
    )
    _, [report] = _run("decode", REPORT)
    assert report["type"] == "SMS-STATUS-REPORT"
    assert (report["reference"], report["status"], report["outcome"]) == (35, 0, "delivered")
    assert report["scts"] == "2016-10-30T04:59:44+08:00"
    assert report["discharge_time"] == "2016-10-30T04:59:44+07:00"


def test_decode_8bit_gives_data_hex_and_no_text() -> None:
    _, [out] = _run("decode", EIGHT_BIT)
    assert (out["encoding"], out["text"], out["data_hex"]) == (
        "8bit",
        None,
        "48656C6C6F20776F726C6421",
    )


def test_decode_reads_stdin_lines_and_fails_at_the_end() -> None:
    stdin = f"{DELIVER}\n\nnot-hex\n{REPORT}\n"
    code, outputs = _run("decode", "-", stdin=stdin)
    assert code == 1
    assert [o.get("type") for o in outputs] == ["SMS-DELIVER", None, "SMS-STATUS-REPORT"]
    assert outputs[1]["error"].startswith("PDU is not hex")
    assert outputs[1]["input"] == "not-hex"


def test_decode_without_argument_reads_stdin() -> None:
    code, outputs = _run("decode", stdin=DELIVER + "\n")
    assert code == 0
    assert outputs[0]["text"] == "TEST"


def test_decode_of_a_bare_tpdu() -> None:
    code, [out] = _run("decode", "--no-smsc", REPORT[2:])
    assert (code, out["number"], out["smsc"]) == (0, "+62895357614989", None)


def test_decode_split_emoji_part_is_still_valid_json() -> None:
    # A UCS-2 part ending in half a surrogate pair (senders do split them).
    lone = "0004" + "0B910427010000F0" + "0008" + "42802041622400" + "02D83D"
    code, [out] = _run("decode", lone)
    assert code == 0
    assert out["text"] == "\ud83d"


def test_encode_prints_one_object_per_part() -> None:
    text = "x" * 200
    code, [parts] = _run("encode", "--to", "+40721000000", "--srr", "--mr", "254", text)
    assert code == 0
    assert [set(p) for p in parts] == [{"pdu", "tpdu_length"}] * 2
    decoded = [decode(p["pdu"]) for p in parts]
    assert [(d.reference, d.srr, d.smsc) for d in decoded] == [(254, True, None), (255, True, None)]  # type: ignore[union-attr]
    for part in parts:
        assert part["tpdu_length"] == len(part["pdu"]) // 2 - 1


def test_encode_with_smsc() -> None:
    code, [[part]] = _run("encode", "--to", "0721000000", "--smsc", "+40722270333", "Hi")
    decoded = decode(part["pdu"])
    assert (code, decoded.smsc, decoded.number) == (0, "+40722270333", "0721000000")
    assert part["tpdu_length"] == len(part["pdu"]) // 2 - 8


def test_encode_bad_number_is_exit_1_with_a_message() -> None:
    result = CliRunner().invoke(app, ["pdu", "encode", "--to", "Vodafone", "Hi"])
    assert result.exit_code == 1
    assert "not a phone number" in result.stderr
    assert result.stdout == ""


def test_encode_without_recipient_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["pdu", "encode", "Hi"])
    assert result.exit_code == 2
