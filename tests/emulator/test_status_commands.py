"""Status commands clients ask (gammu networkinfo, ModemManager): every accepted setting
changes what the emulator answers afterwards. Whole replies, byte for byte."""

from __future__ import annotations

import pytest

from smsgw.emulator.ussd import FixedReplies, pack_hex
from tests.emulator.host import Host, boot


def _reply(host: Host, line: str) -> bytes:
    return host.raw(line.encode() + b"\r")


@pytest.mark.parametrize("profile", ["sim800", "huawei"])
def test_cgatt_attached_detached(profile: str) -> None:
    host = boot(profile)
    host.at("ATE0")
    assert _reply(host, "AT+CGATT?") == b"\r\n+CGATT: 1\r\n\r\nOK\r\n"
    assert _reply(host, "AT+CGATT=?") == b"\r\n+CGATT: (0,1)\r\n\r\nOK\r\n"
    assert _reply(host, "AT+CGATT=0") == b"\r\nOK\r\n"
    assert _reply(host, "AT+CGATT?") == b"\r\n+CGATT: 0\r\n\r\nOK\r\n"
    assert _reply(host, "AT+CGREG?") == b"\r\n+CGREG: 0,0\r\n\r\nOK\r\n"
    assert _reply(host, "AT+CGATT=1") == b"\r\nOK\r\n"
    assert _reply(host, "AT+CGREG?") == b"\r\n+CGREG: 0,1\r\n\r\nOK\r\n"


@pytest.mark.parametrize(
    ("profile", "location"), [("sim800", '"1A2B","3C4D"'), ("huawei", "4CA,81DE445")]
)
def test_cgreg_2_and_creg_2_show_lac_and_cell(profile: str, location: str) -> None:
    host = boot(profile)
    host.at("ATE0")
    assert _reply(host, "AT+CGREG=2") == b"\r\nOK\r\n"
    assert _reply(host, "AT+CGREG?") == f"\r\n+CGREG: 2,1,{location}\r\n\r\nOK\r\n".encode()
    assert _reply(host, "AT+CREG=2") == b"\r\nOK\r\n"
    assert _reply(host, "AT+CREG?") == f"\r\n+CREG: 2,1,{location}\r\n\r\nOK\r\n".encode()
    # Losing and regaining the network: one URC per enabled report, location when n=2.
    assert _reply(host, "AT+CFUN=0") == b"\r\n+CREG: 0\r\n\r\n+CGREG: 0\r\n\r\nOK\r\n"
    assert _reply(host, "AT+CFUN=1") == (
        f"\r\n+CREG: 1,{location}\r\n\r\n+CGREG: 1,{location}\r\n\r\nOK\r\n".encode()
    )


def test_creg_1_urc_has_no_location() -> None:
    host = boot("sim800")
    host.at("ATE0")
    host.at("AT+CREG=1")
    assert _reply(host, "AT+CFUN=0") == b"\r\n+CREG: 0\r\n\r\nOK\r\n"
    assert _reply(host, "AT+CREG?") == b"\r\n+CREG: 1,0\r\n\r\nOK\r\n"


@pytest.mark.parametrize(
    ("profile", "long_name", "short", "numeric", "act"),
    [
        ("sim800", "Orange RO", "Orange", "22610", ""),
        ("huawei", "Vodafone RO", "Vodafone", "22601", ",2"),
    ],
)
def test_cops_format_follows_cops_3(
    profile: str, long_name: str, short: str, numeric: str, act: str
) -> None:
    host = boot(profile)
    host.at("ATE0")
    assert _reply(host, "AT+COPS?") == f'\r\n+COPS: 0,0,"{long_name}"{act}\r\n\r\nOK\r\n'.encode()
    assert _reply(host, "AT+COPS=3,2") == b"\r\nOK\r\n"
    assert _reply(host, "AT+COPS?") == f'\r\n+COPS: 0,2,"{numeric}"{act}\r\n\r\nOK\r\n'.encode()
    host.at("AT+COPS=3,1")
    assert _reply(host, "AT+COPS?") == f'\r\n+COPS: 0,1,"{short}"{act}\r\n\r\nOK\r\n'.encode()
    assert _reply(host, "AT+COPS=3,3") == b"\r\nERROR\r\n"
    host.at("ATZ")
    host.at("ATE0")
    assert _reply(host, "AT+COPS?") == f'\r\n+COPS: 0,0,"{long_name}"{act}\r\n\r\nOK\r\n'.encode()


def test_cops_22610_as_the_issue_quotes_it() -> None:
    host = boot("sim800")
    host.at("ATE0")
    host.at("AT+COPS=3,2")
    assert host.lines("AT+COPS?") == ['+COPS: 0,2,"22610"', "OK"]


@pytest.mark.parametrize("profile", ["sim800", "huawei", "generic"])
@pytest.mark.parametrize("command", ["ATH", "ATH0", "AT+CHUP"])
def test_hang_up_without_a_call_is_ok(profile: str, command: str) -> None:
    host = boot(profile)
    host.at("ATE0")
    assert _reply(host, command) == b"\r\nOK\r\n"


def test_clip_setting_reads_back() -> None:
    host = boot("sim800")
    host.at("ATE0")
    assert host.lines("AT+CLIP?") == ["+CLIP: 0,1", "OK"]
    assert host.lines("AT+CLIP=1") == ["OK"]
    assert host.lines("AT+CLIP?") == ["+CLIP: 1,1", "OK"]
    assert host.lines("AT+CLIP=2") == ["ERROR"]


@pytest.mark.parametrize(
    ("profile", "command", "value", "default"),
    [
        ("sim800", "+CLTS", "1", "0"),
        ("sim800", "+CBATCHK", "1", "0"),
        ("sim800", "+IPR", "115200", "0"),
        ("huawei", "^PORTSEL", "1", "0"),
        ("huawei", "+CVHU", "1", "0"),
    ],
)
def test_vendor_settings_are_remembered_until_reset(
    profile: str, command: str, value: str, default: str
) -> None:
    host = boot(profile)
    host.at("ATE0")
    assert host.lines(f"AT{command}?") == [f"{command}: {default}", "OK"]
    assert host.lines(f"AT{command}={value}") == ["OK"]
    assert host.lines(f"AT{command}?") == [f"{command}: {value}", "OK"]
    host.at("ATZ")
    host.at("ATE0")
    assert host.lines(f"AT{command}?") == [f"{command}: {default}", "OK"]


def test_ipr_refuses_a_rate_it_does_not_have() -> None:
    host = boot("sim800")
    host.at("ATE0")
    assert host.lines("AT+IPR=12345") == ["ERROR"]


def test_ciurc_0_stored_with_at_w_silences_call_ready_after_reboot() -> None:
    host = boot("sim800")
    host.at("ATE0")
    host.at("AT+CIURC=0")
    host.device.reboot()
    assert b"Call Ready" in host.wait(2.0)  # not stored: volatile
    host.at("ATE0")
    host.at("AT+CIURC=0;&W")
    host.device.reboot()
    banner = host.wait(2.0)
    assert b"Call Ready" not in banner
    assert banner.endswith(b"\r\nSMS Ready\r\n")  # SMS Ready cannot be disabled (§2.3)


def test_text_only_firmware_refuses_pdu_mode() -> None:
    host = boot("generic", pdu_mode=False)
    host.at("ATE0")
    assert host.lines("AT+CMGF=?") == ["+CMGF: (1)", "OK"]
    assert host.lines("AT+CMGF?") == ["+CMGF: 1", "OK"]
    assert host.lines("AT+CMGF=0") == ["ERROR"]
    assert host.lines("AT+CMGF=1") == ["OK"]


# ---------------------------------------------------------------------------- USSD
def test_sim800_ussd_answer_is_text() -> None:
    host = boot("sim800", ussd=FixedReplies({"*100#": "Credit: 7.50 RON"}), ussd_delay=0.5)
    host.at("ATE0")
    assert _reply(host, 'AT+CUSD=1,"*100#",15') == b"\r\nOK\r\n"
    assert host.wait(0.4) == b""
    assert host.wait(0.2) == b'\r\n+CUSD: 0,"Credit: 7.50 RON",15\r\n'
    assert host.lines("AT+CUSD?") == ["+CUSD: 1", "OK"]


def test_huawei_ussd_is_packed_gsm7_hex_until_ussdmode_0() -> None:
    host = boot("huawei", ussd=FixedReplies({"*100#": "Credit: 7.50 EUR"}), ussd_delay=0.1)
    host.at("ATE0")
    assert host.lines("AT^USSDMODE?") == ["^USSDMODE: 1", "OK"]
    assert _reply(host, 'AT+CUSD=1,"*100#",15') == b"\r\nERROR\r\n"  # text in hex mode
    assert _reply(host, 'AT+CUSD=1,"AA180C3602",15') == b"\r\nOK\r\n"  # "*100#" packed
    packed = pack_hex("Credit: 7.50 EUR")
    assert host.wait(0.2) == f'\r\n+CUSD: 0,"{packed}",15\r\n'.encode()
    host.at("AT^USSDMODE=0")
    host.at('AT+CUSD=1,"*100#",15')
    assert host.wait(0.2) == b'\r\n+CUSD: 0,"Credit: 7.50 EUR",15\r\n'


def test_ussd_presentation_off_and_unknown_codes() -> None:
    host = boot("sim800", ussd=FixedReplies({}, default="Unknown code"), ussd_delay=0.1)
    host.at("ATE0")
    assert host.lines('AT+CUSD=0,"*123#",15') == ["OK"]
    assert host.wait(1.0) == b""  # sent, but n=0 shows nothing
    host.at('AT+CUSD=1,"*123#",15')
    assert host.wait(0.2) == b'\r\n+CUSD: 0,"Unknown code",15\r\n'


def test_ussd_answer_waits_while_a_prompt_is_open() -> None:
    host = boot("sim800", ussd_delay=0.1)
    host.at("ATE0")
    host.at('AT+CUSD=1,"*100#",15')
    assert _reply(host, "AT+CMGS=20") == b"\r\n> "
    assert host.wait(0.5) == b""  # the answer must not land inside the PDU being typed
    assert host.raw(b"\x1b").startswith(b"\r\nOK\r\n\r\n+CUSD: 0,")


def test_ussd_needs_the_network() -> None:
    host = boot("sim800")
    host.at("ATE0")
    host.at("AT+CMEE=1")
    host.at("AT+CFUN=0")
    assert host.lines('AT+CUSD=1,"*100#",15') == ["+CME ERROR: 30"]


# ---------------------------------------------------------------------------- calls
@pytest.mark.parametrize(
    ("profile", "clip"),
    [
        ("sim800", '+CLIP: "+40721000000",145,"",0,"",0'),
        ("huawei", '+CLIP: "+40721000000",145,,,,0'),
    ],
)
def test_ring_shows_the_caller_only_with_clip_1_and_ath_ends_it(profile: str, clip: str) -> None:
    host = boot(profile)
    host.at("ATE0")
    host.device.incoming_call("+40721000000", rings=3)
    assert host.device.read_output() == b"\r\nRING\r\n"
    host.at("AT+CLIP=1")
    assert host.wait(5.0) == f"\r\nRING\r\n\r\n{clip}\r\n".encode()
    assert _reply(host, "ATH") == b"\r\nOK\r\n"
    assert host.wait(30.0) == b""  # rejected: no more RING


def test_an_unanswered_call_stops_ringing_by_itself() -> None:
    host = boot("sim800")
    host.at("ATE0")
    host.device.incoming_call("+40721000000", rings=2)
    assert host.device.read_output() + host.wait(60.0) == b"\r\nRING\r\n\r\nRING\r\n"
    assert _reply(host, "AT+CHUP") == b"\r\nOK\r\n"


def test_ring_waits_while_a_prompt_is_open() -> None:
    host = boot("sim800")
    host.at("ATE0")
    host.at("AT+CMGS=20")
    host.device.incoming_call("+40721000000", rings=1)
    assert host.device.read_output() == b""
    assert host.raw(b"\x1b") == b"\r\nOK\r\n\r\nRING\r\n"
