"""The SIM800 persona at the byte level (PROTOCOL.md §1, §2, §5-§7), with a manual clock."""

from __future__ import annotations

import pytest

from smsgw import pdu
from smsgw.emulator import Device, DeviceOptions, get_profile
from smsgw.emulator.storage import Stat
from tests.emulator.host import FIXED_TIME, Host, boot


def test_boot_banner_is_the_sim800_sequence() -> None:
    device = Device(get_profile("sim800"), DeviceOptions(noise_interval=0))
    device.power_on(0.0)
    host = Host(device)
    banner = host.wait(2.0)
    assert (
        banner
        == b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nCall Ready\r\n\r\nSMS Ready\r\n"
    )


def test_sms_commands_fail_until_sms_ready() -> None:
    device = Device(get_profile("sim800"), DeviceOptions(noise_interval=0))
    device.power_on(0.0)
    host = Host(device)
    host.wait(0.2)  # RDY .. +CPIN seen, SMS Ready not yet
    assert host.at("AT+CMGF=0").endswith("\r\nERROR\r\n")
    host.wait(1.0)
    assert host.at("AT+CMGF=0").endswith("\r\nOK\r\n")


def test_echo_is_on_by_default_with_cr_before_the_reply() -> None:
    host = boot("sim800")
    assert host.at("AT") == "AT\r\r\nOK\r\n"
    assert host.at("ATE0") == "ATE0\r\r\nOK\r\n"
    assert host.at("AT") == "\r\nOK\r\n"


@pytest.mark.parametrize("ending", [b"\r", b"\r\n"])
def test_line_endings_and_leading_escape(sim800: Host, ending: bytes) -> None:
    assert sim800.raw(b"\x1bAT+CGMI" + ending) == b"\r\nSIMCOM_Ltd\r\n\r\nOK\r\n"


def test_input_split_at_every_byte_gives_the_same_reply(sim800: Host) -> None:
    for byte in b"AT+CMEE=1;+CREG=2\r":
        out = sim800.raw(bytes([byte]))
    assert out == b"\r\nOK\r\n"
    assert sim800.lines("AT+CREG?") == ['+CREG: 2,1,"1A2B","3C4D"', "OK"]


def test_chained_commands_stop_at_the_first_error(sim800: Host) -> None:
    assert sim800.lines("AT+CGMI;+NOPE;+CGMM") == ["SIMCOM_Ltd", "ERROR"]
    assert sim800.lines("AT+CGMI;+CGMM") == ["SIMCOM_Ltd", "SIMCOM_SIM800L", "OK"]


def test_basic_commands_glued_and_s_registers(sim800: Host) -> None:
    assert sim800.lines("ATE0V1Q0S0=0") == ["OK"]
    assert sim800.lines("ATS0?") == ["000", "OK"]
    assert sim800.lines("ATS0=999") == ["ERROR"]
    assert sim800.lines("AT&F") == ["OK"]


def test_unbalanced_quote_is_a_plain_error(sim800: Host) -> None:
    assert sim800.lines('AT+CPMS="SM') == ["ERROR"]
    assert sim800.lines("AT") == ["OK"]


def test_identity(sim800: Host) -> None:
    assert sim800.lines("AT+CGMR") == ["Revision:1418B05SIM800L24", "OK"]
    assert sim800.lines("ATI") == ["SIM800 R14.18", "OK"]
    assert sim800.lines("AT+GSN")[0].isdigit()
    assert len(sim800.lines("AT+CGSN")[0]) == 15
    assert sim800.lines("AT+CSQ") == ["+CSQ: 18,0", "OK"]
    assert sim800.lines("AT+COPS?") == ['+COPS: 0,0,"Orange RO"', "OK"]
    assert sim800.lines("AT+CSCA?") == ['+CSCA: "+40744946000",145', "OK"]


@pytest.mark.parametrize(
    ("cmee", "expected"),
    [("0", "ERROR"), ("1", "+CMS ERROR: 321"), ("2", "+CMS ERROR: invalid memory index")],
)
def test_error_spelling_follows_cmee(sim800: Host, cmee: str, expected: str) -> None:
    sim800.at(f"AT+CMEE={cmee}")
    assert sim800.lines("AT+CMGR=7") == [expected]


@pytest.mark.parametrize(
    ("setting", "accepted"),
    [
        ("2,1,0,2", False),  # python-gsmmodem's default: SIM800 has no ds=2 (§2.10)
        ("2,1,0,2,0", False),
        ("2,1,0,1,0", True),
        ("1,2,0,1,0", True),
        ("2,1,1,0,0", False),  # bm=1 not advertised
        ("3,3,2,1,1", True),
        ("4,1,0,0,0", False),
    ],
)
def test_cnmi_acceptance_table(sim800: Host, setting: str, accepted: bool) -> None:
    assert sim800.lines(f"AT+CNMI={setting}")[-1] == ("OK" if accepted else "ERROR")


def test_atz_restores_defaults(sim800: Host) -> None:
    sim800.at("AT+CNMI=1,2,0,1,0")
    sim800.at("AT+CMEE=2")
    assert sim800.at("ATZ") == "\r\nOK\r\n"  # echo still off until ATZ completes
    assert sim800.at("AT+CNMI?") == "AT+CNMI?\r\r\n+CNMI: 2,1,0,0,0\r\n\r\nOK\r\n"


def test_cpms_read_set_and_test(sim800: Host) -> None:
    assert sim800.lines('AT+CPMS="ME","SM","MT"') == ["+CPMS: 0,50,0,50,0,100", "OK"]
    assert sim800.lines("AT+CPMS?") == ['+CPMS: "ME",0,50,"SM",0,50,"MT",0,100', "OK"]
    assert sim800.lines('AT+CPMS="SR"') == ["ERROR"]


def test_incoming_sms_is_stored_at_index_1_and_read_once(sim800: Host) -> None:
    pdus = sim800.device.deliver("+40721000000", "Hi there")
    assert sim800.device.read_output() == b'\r\n+CMTI: "SM",1\r\n'
    length = len(pdus[0]) // 2 - 8  # SMSC field: length octet + 7 octets
    assert sim800.lines("AT+CMGR=1") == [f'+CMGR: 0,"",{length}', pdus[0], "OK"]
    assert sim800.lines("AT+CMGR=1")[0] == f'+CMGR: 1,"",{length}'
    assert sim800.lines("AT+CMGR=2") == ["ERROR"]
    assert sim800.lines("AT+CMGD=1,0") == ["OK"]
    assert sim800.lines("AT+CMGR=1") == ["ERROR"]


def test_multipart_ucs2_delivery_is_three_cmti(sim800: Host) -> None:
    text = "Привет 😀 " * 15
    pdus = sim800.device.deliver("+40721000000", text)
    assert len(pdus) == 3
    out = sim800.device.read_output().decode()
    assert out.count("+CMTI:") == 3
    decoded = [pdu.decode(p) for p in pdus]
    assert all(isinstance(d, pdu.Deliver) and d.encoding == "ucs2" for d in decoded)
    assert "".join(d.text or "" for d in decoded if isinstance(d, pdu.Deliver)) == text


def test_direct_delivery_with_mt2_is_a_two_line_cmt(sim800: Host) -> None:
    sim800.at("AT+CNMI=2,2,0,0,0")
    (one,) = sim800.device.deliver("+40721000000", "direct")
    length = len(one) // 2 - 8
    assert sim800.device.read_output() == f'\r\n+CMT: "",{length}\r\n{one}\r\n'.encode()
    assert sim800.lines("AT+CPMS?")[0].startswith('+CPMS: "SM",0,')


def test_sim_full_gives_cms_322_and_no_cmti(sim800: Host) -> None:
    sim800.at("AT+CMEE=1")
    submit = pdu.encode_submit("+40721000001", "x")[0]
    for _ in range(50):
        sim800.at(f"AT+CMGW={submit.tpdu_length}")
        assert sim800.raw(submit.hex.encode() + b"\x1a").startswith(b"\r\n+CMGW: ")
    sim800.at(f"AT+CMGW={submit.tpdu_length}")
    assert sim800.raw(submit.hex.encode() + b"\x1a") == b"\r\n+CMS ERROR: 322\r\n"
    sim800.device.deliver("+40721000000", "no room")
    assert sim800.device.read_output() == b""
    # Room again: the SMSC retries and the +CMTI follows the reply, never inside it.
    assert sim800.at("AT+CMGD=1") == '\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'


def test_cmgs_prompt_has_no_line_end_and_echoes_the_pdu() -> None:
    host = boot("sim800")
    part = pdu.encode_submit("+40721000001", "hello")[0]
    assert host.at(f"AT+CMGS={part.tpdu_length}") == f"AT+CMGS={part.tpdu_length}\r\r\n> "
    reply = host.raw(part.hex.encode() + b"\x1a").decode()
    assert reply == f"{part.hex}\r\n\r\n+CMGS: 0\r\n\r\nOK\r\n"
    (sent,) = host.device.sent
    assert (sent.recipient, sent.text, sent.parts, sent.mr) == ("+40721000001", "hello", 1, 0)


def test_cmgs_escape_cancels_and_mr_increments(sim800: Host) -> None:
    part = pdu.encode_submit("+40721000001", "hello")[0]
    sim800.at(f"AT+CMGS={part.tpdu_length}")
    assert sim800.raw(b"0011\x1b") == b"\r\nOK\r\n"
    assert sim800.device.sent == []
    for expected_mr in (0, 1, 2):
        sim800.at(f"AT+CMGS={part.tpdu_length}")
        assert (
            sim800.raw(part.hex.encode() + b"\x1a")
            == f"\r\n+CMGS: {expected_mr}\r\n\r\nOK\r\n".encode()
        )


def test_cmgs_wrong_length_is_cms_304(sim800: Host) -> None:
    sim800.at("AT+CMEE=1")
    part = pdu.encode_submit("+40721000001", "hello")[0]
    sim800.at(f"AT+CMGS={part.tpdu_length + 1}")
    assert sim800.raw(part.hex.encode() + b"\x1a") == b"\r\n+CMS ERROR: 304\r\n"


def test_cmgs_delay_holds_the_reply_and_queued_input() -> None:
    host = boot("sim800", cmgs_delay=3.0)
    host.at("ATE0")
    part = pdu.encode_submit("+40721000001", "slow")[0]
    host.at(f"AT+CMGS={part.tpdu_length}")
    assert host.raw(part.hex.encode() + b"\x1a") == b""
    assert host.at("AT") == ""
    assert host.wait(2.9) == b""
    assert host.wait(0.2) == b"\r\n+CMGS: 0\r\n\r\nOK\r\n\r\nOK\r\n"


def test_multipart_send_is_one_sent_message_and_ds1_reports_as_cds() -> None:
    host = boot("sim800", report_delay=2.0)
    host.at("ATE0")
    host.at("AT+CNMI=2,1,0,1,0")
    parts = pdu.encode_submit("+40721000001", "long " * 60, srr=True, reference=0)
    for part in parts:
        host.at(f"AT+CMGS={part.tpdu_length}")
        host.raw(part.hex.encode() + b"\x1a")
    (sent,) = host.device.sent
    assert sent.parts == len(parts) == 2
    assert sent.text == "long " * 60
    assert sent.mrs == (0, 1)
    reports = host.wait(2.5).decode().split("\r\n")
    cds = [i for i, line in enumerate(reports) if line.startswith("+CDS: ")]
    assert len(cds) == 2
    decoded = [pdu.decode(reports[i + 1]) for i in cds]
    assert all(isinstance(d, pdu.StatusReport) and d.outcome == "delivered" for d in decoded)
    assert sorted(d.reference for d in decoded if isinstance(d, pdu.StatusReport)) == [0, 1]


def test_failed_report_outcome_and_send_failure() -> None:
    host = boot("sim800", report_delay=1.0, report_status="failed")
    host.at("ATE0")
    host.at("AT+CMEE=1")
    host.at("AT+CNMI=2,1,0,1,0")
    part = pdu.encode_submit("+40721000001", "x", srr=True)[0]
    host.device.faults.fail_next_send(38)
    host.at(f"AT+CMGS={part.tpdu_length}")
    assert host.raw(part.hex.encode() + b"\x1a") == b"\r\n+CMS ERROR: 38\r\n"
    host.at(f"AT+CMGS={part.tpdu_length}")
    host.raw(part.hex.encode() + b"\x1a")
    lines = host.wait(1.5).decode().split("\r\n")
    report = pdu.decode(lines[lines.index("+CDS: 25") + 1])
    assert isinstance(report, pdu.StatusReport)
    assert report.outcome == "failed"


def test_text_mode_read_and_send(sim800: Host) -> None:
    sim800.at("AT+CMGF=1")
    sim800.device.deliver("+40721000000", "Salut")
    sim800.device.read_output()
    assert sim800.lines("AT+CMGR=1") == [
        '+CMGR: "REC UNREAD","+40721000000","","24/02/08,14:20:00+08"',
        "Salut",
        "OK",
    ]
    assert sim800.at('AT+CMGS="+40721000009"') == "\r\n> "
    assert sim800.raw(b"Hello\x1a") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    assert sim800.device.sent[0].text == "Hello"
    assert sim800.device.sent[0].recipient == "+40721000009"


def test_cmgl_lists_submits_and_status_reports_and_marks_read(sim800: Host) -> None:
    submit = pdu.encode_submit("+40721000001", "draft")[0]
    sim800.at(f"AT+CMGW={submit.tpdu_length}")
    assert sim800.raw(submit.hex.encode() + b"\x1a") == b"\r\n+CMGW: 1\r\n\r\nOK\r\n"
    report = pdu.encode_status_report(7, "+40721000001", FIXED_TIME, FIXED_TIME, 0)
    sim800.device.storage("SM").store(Stat.REC_UNREAD, report.hex)
    sim800.device.deliver("+40721000000", "in")
    sim800.device.read_output()
    listing = sim800.lines("AT+CMGL=4")
    assert listing[0] == f'+CMGL: 1,2,"",{submit.tpdu_length}'
    assert listing[2].startswith('+CMGL: 2,0,"",')
    assert listing[4].startswith('+CMGL: 3,0,"",')
    assert sim800.lines("AT+CMGL=0") == ["OK"]  # listing flipped unread -> read
    assert sim800.lines("AT+CMSS=1") == ["+CMSS: 0", "OK"]
    assert sim800.device.sent[0].text == "draft"
    assert sim800.lines("AT+CMGL=3")[0] == f'+CMGL: 1,3,"",{submit.tpdu_length}'


def test_cmgd_delflag_and_cmgda(sim800: Host) -> None:
    for text in ("a", "b", "c"):
        sim800.device.deliver("+40721000000", text)
    sim800.at("AT+CMGR=1")
    assert sim800.lines("AT+CMGD=1,1") == ["OK"]
    assert sim800.lines("AT+CPMS?")[0].startswith('+CPMS: "SM",2,50')
    assert sim800.lines("AT+CMGDA=6") == ["OK"]
    assert sim800.lines("AT+CPMS?")[0].startswith('+CPMS: "SM",0,50')
    assert sim800.lines("AT+CMGD=?") == ["+CMGD: (1-50),(0-4)", "OK"]
    assert sim800.lines("AT+CMGD=51") == ["ERROR"]


def test_pin_entry_counts_down_to_puk() -> None:
    device = Device(get_profile("sim800"), DeviceOptions(noise_interval=0, pin="1234"))
    device.power_on(0.0)
    host = Host(device)
    banner = host.wait(2.0)
    assert b"+CPIN: SIM PIN" in banner
    assert b"SMS Ready" not in banner
    host.at("ATE0")
    host.at("AT+CMEE=1")
    assert host.lines("AT+CPIN?") == ["+CPIN: SIM PIN", "OK"]
    assert host.lines("AT+CMGF=0") == ["+CME ERROR: 11"]
    assert host.lines('AT+CPIN="0000"') == ["+CME ERROR: 16"]
    assert host.lines('AT+CPIN="0000"') == ["+CME ERROR: 16"]
    assert host.lines('AT+CPIN="0000"') == ["+CME ERROR: 12"]
    assert host.lines("AT+CPIN?") == ["+CPIN: SIM PUK", "OK"]
    assert host.lines('AT+CPIN="12345678","4321"') == ["OK"]
    after = host.wait(2.0)
    assert b"+CPIN: READY" in after
    assert b"SMS Ready" in after
    assert host.lines("AT+CMGF=0") == ["OK"]


def test_correct_pin_unlocks() -> None:
    host = boot("sim800", pin="1234")
    host.at("ATE0")
    assert host.lines('AT+CPIN="1234"') == ["OK"]
    assert b"SMS Ready" in host.wait(2.0)
    assert host.lines("AT+CPIN?") == ["+CPIN: READY", "OK"]


def test_creg_urc_after_reregistration(sim800: Host) -> None:
    sim800.at("AT+CREG=1")
    sim800.at("AT+CFUN=0")
    assert sim800.device.read_output() == b""
    assert sim800.at("AT+CFUN=1") == "\r\n+CREG: 1\r\n\r\nOK\r\n"
