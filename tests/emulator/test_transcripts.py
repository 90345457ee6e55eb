"""Whole replies compared byte for byte, per profile, PDU and text mode, echo on and off.

The expected bytes are written out here, derived from real captures (PROTOCOL.md §1, §5.2):
a `+CMGR`/`+CMGL`/`+CMT`/`+CDS` header and its PDU or text travel on consecutive lines of
one `\\r\\n...\\r\\n` block; the final result is its own block after one blank line. The
PDUs are real ones: a stored SUBMIT from gammu's at-sms/02.dump (`+CMGR: 3,,29`) and a
DELIVER from a Huawei E1752 `+CMGL: 0,0,,23` listing (gammu issue 138).
"""

from __future__ import annotations

import pytest

from smsgw import pdu
from smsgw.emulator.storage import Stat
from tests.emulator.host import FIXED_TIME, Host, boot

#: SMS-DELIVER, 23 TPDU octets, from the E1752 `AT+CMGL=4` capture.
DELIVER = "07913366003041F5040B913366304381F900005190828105918004D4F29C0E"
#: SMS-SUBMIT stored as "STO SENT", 29 TPDU octets, from gammu's at-sms/02.dump.
SUBMIT = "0791361907001003B17A0C913619397750320000AD11CD701E340FB3C3F23CC81D0689C3BF"
#: What DELIVER says in text mode (sender, SCTS as the PDU encodes it, text).
DELIVER_TEXT_HEADER = '"+33660334189",{alpha},"15/09/28,18:50:19+08"'

ALPHA = {"sim800": '""', "huawei": "", "generic": '""'}
FIRST = {"sim800": 1, "huawei": 0, "generic": 1}
PROFILES = ["sim800", "huawei", "generic"]


def _host(profile: str, *, echo: bool) -> Host:
    host = boot(profile)
    if not echo:
        host.at("ATE0")
    return host


def _command(host: Host, line: str, *, echo: bool) -> bytes:
    reply = host.raw(line.encode() + b"\r")
    prefix = line.encode() + b"\r" if echo else b""
    assert reply.startswith(prefix)
    return reply[len(prefix) :]


@pytest.mark.parametrize("echo", [False, True], ids=["echo-off", "echo-on"])
@pytest.mark.parametrize("profile", PROFILES)
def test_cmgr_pdu_mode_puts_the_pdu_on_the_line_after_the_header(profile: str, echo: bool) -> None:
    host = _host(profile, echo=echo)
    index = host.device.storage("SM").store(Stat.REC_UNREAD, DELIVER)
    reply = _command(host, f"AT+CMGR={index}", echo=echo)
    alpha = ALPHA[profile]
    assert reply == f"\r\n+CMGR: 0,{alpha},23\r\n{DELIVER}\r\n\r\nOK\r\n".encode()


@pytest.mark.parametrize("echo", [False, True], ids=["echo-off", "echo-on"])
@pytest.mark.parametrize("profile", PROFILES)
def test_cmgl_pdu_mode_lists_header_pdu_header_pdu(profile: str, echo: bool) -> None:
    host = _host(profile, echo=echo)
    storage = host.device.storage("SM")
    first = storage.store(Stat.REC_UNREAD, DELIVER)
    second = storage.store(Stat.STO_SENT, SUBMIT)
    reply = _command(host, "AT+CMGL=4", echo=echo)
    alpha = ALPHA[profile]
    assert (
        reply
        == (
            f"\r\n+CMGL: {first},0,{alpha},23\r\n{DELIVER}\r\n"
            f"+CMGL: {second},3,{alpha},29\r\n{SUBMIT}\r\n\r\nOK\r\n"
        ).encode()
    )


def test_e1752_cmgl_capture_reproduced() -> None:
    """`+CMGL: 0,0,,23\\r\\n0791...F29C0E\\r\\n\\r\\nOK\\r\\n` (hex dump in gammu issue 126/138)."""
    host = _host("huawei", echo=False)
    host.device.storage("SM").store(Stat.REC_UNREAD, DELIVER)
    assert host.raw(b"AT+CMGL=4\r") == f"\r\n+CMGL: 0,0,,23\r\n{DELIVER}\r\n\r\nOK\r\n".encode()


@pytest.mark.parametrize("echo", [False, True], ids=["echo-off", "echo-on"])
@pytest.mark.parametrize("profile", PROFILES)
def test_cmgr_and_cmgl_text_mode_put_the_text_on_the_next_line(profile: str, echo: bool) -> None:
    host = _host(profile, echo=echo)
    host.at("AT+CMGF=1")
    index = host.device.storage("SM").store(Stat.REC_UNREAD, DELIVER)
    header = DELIVER_TEXT_HEADER.format(alpha=ALPHA[profile])
    reply = _command(host, f"AT+CMGR={index}", echo=echo)
    assert reply == f'\r\n+CMGR: "REC UNREAD",{header}\r\nTest\r\n\r\nOK\r\n'.encode()
    listing = _command(host, 'AT+CMGL="ALL"', echo=echo)
    assert listing == f'\r\n+CMGL: {index},"REC READ",{header}\r\nTest\r\n\r\nOK\r\n'.encode()


@pytest.mark.parametrize("profile", PROFILES)
def test_cmt_pdu_urc_is_header_then_pdu(profile: str) -> None:
    host = _host(profile, echo=False)
    host.at("AT+CNMI=1,2,0,0,0")
    host.device.deliver_pdu(DELIVER)
    assert host.device.read_output() == f"\r\n+CMT: {ALPHA[profile]},23\r\n{DELIVER}\r\n".encode()


@pytest.mark.parametrize("profile", PROFILES)
def test_cmt_text_urc_is_header_then_text(profile: str) -> None:
    host = _host(profile, echo=False)
    host.at("AT+CMGF=1")
    host.at("AT+CNMI=1,2,0,0,0")
    host.device.deliver_pdu(DELIVER)
    header = DELIVER_TEXT_HEADER.format(alpha=ALPHA[profile])
    assert host.device.read_output() == f"\r\n+CMT: {header}\r\nTest\r\n".encode()


@pytest.mark.parametrize("profile", ["sim800", "huawei"])
def test_cds_urc_is_header_then_pdu(profile: str) -> None:
    host = _host(profile, echo=False)
    host.at("AT+CNMI=1,1,0,1,0")
    report = pdu.encode_status_report(7, "+40721000001", FIXED_TIME, FIXED_TIME, 0)
    host.device.deliver_pdu(report.hex)
    assert host.device.read_output() == f"\r\n+CDS: 25\r\n{report.hex}\r\n".encode()


def test_two_held_urcs_are_two_blocks() -> None:
    host = _host("sim800", echo=False)
    host.at("AT+CNMI=0,1,0,0,0")
    host.device.deliver_pdu(DELIVER)
    host.device.deliver_pdu(DELIVER)
    assert host.raw(b"AT+CNMI=2,1,0,0,0\r") == (
        b'\r\nOK\r\n\r\n+CMTI: "SM",1\r\n\r\n+CMTI: "SM",2\r\n'
    )


def test_e1750_cmgs_with_echo_on_reproduces_the_capture() -> None:
    """gammu issue 45: echo, `\\r\\n> `, the typed PDU echoed, then `+CMGS: 249`."""
    typed = (
        "079124608000651831000C912470774919390000FF1A54747A0E4ACF4161D034CA04D1CB733AA85D9ECFC3E732"
    )
    host = _host("huawei", echo=False)
    for _ in range(249):  # the capture's TP-MR was 249: burn the first 249 references
        host.at("AT+CMGS=37")
        host.raw(typed.encode() + b"\x1a")
    host.at("ATE1")
    stream = host.raw(b"AT+CMGS=37\r") + host.raw(typed.encode() + b"\x1a")
    assert stream == f"AT+CMGS=37\r\r\n> {typed}\r\n\r\n+CMGS: 249\r\n\r\nOK\r\n".encode()


@pytest.mark.parametrize("profile", PROFILES)
def test_prompt_without_echo_and_the_result(profile: str) -> None:
    host = _host(profile, echo=False)
    part = pdu.encode_submit("+40721000001", "hello")[0]
    assert host.raw(f"AT+CMGS={part.tpdu_length}\r".encode()) == b"\r\n> "
    assert host.raw(part.hex.encode() + b"\x1a") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"


def test_chained_information_responses_are_separate_blocks() -> None:
    host = _host("sim800", echo=True)
    assert host.raw(b"AT+CGMI;+CGMM\r") == (
        b"AT+CGMI;+CGMM\r\r\nSIMCOM_Ltd\r\n\r\nSIMCOM_SIM800L\r\n\r\nOK\r\n"
    )


def test_huawei_ati_is_one_multi_line_block() -> None:
    host = _host("huawei", echo=False)
    assert host.raw(b"ATI\r") == (
        b"\r\nManufacturer: huawei\r\nModel: E1752\r\nRevision: 11.126.13.00.00\r\n"
        b"+GCAP: +CGSM\r\n\r\nOK\r\n"
    )


def test_huawei_cscs_read_keeps_its_captured_extra_blank_line() -> None:
    host = _host("huawei", echo=False)
    assert host.raw(b"AT+CSCS?\r") == b'\r\n+CSCS: "GSM"\r\n\r\n\r\nOK\r\n'


@pytest.mark.parametrize("profile", PROFILES)
def test_empty_listing_is_a_bare_ok(profile: str) -> None:
    host = _host(profile, echo=False)
    assert host.raw(b"AT+CMGL=4\r") == b"\r\nOK\r\n"
