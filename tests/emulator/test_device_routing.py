"""CNMI routing details (27.005 §3.4.1): buffering, direct delivery, +CNMA, classes, reports."""

from __future__ import annotations

from smsgw import pdu
from tests.emulator.host import Host, boot


def test_mode_0_buffers_urcs_until_routing_is_enabled(sim800: Host) -> None:
    sim800.at("AT+CNMI=0,1,0,0,0")
    sim800.device.deliver("+40721000000", "buffered")
    assert sim800.device.read_output() == b""
    assert sim800.at("AT+CNMI=2,1,0,0,0") == '\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'


def test_urcs_wait_while_a_prompt_is_open(sim800: Host) -> None:
    part = pdu.encode_submit("+40721000001", "x")[0]
    sim800.at(f"AT+CMGS={part.tpdu_length}")
    sim800.device.deliver("+40721000000", "during the prompt")
    assert sim800.device.read_output() == b""
    assert sim800.raw(part.hex.encode() + b"\x1a") == (
        b'\r\n+CMGS: 0\r\n\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'
    )


def test_direct_delivery_needs_cnma_only_with_csms_1(sim800: Host) -> None:
    sim800.at("AT+CMEE=1")
    assert sim800.lines("AT+CNMA") == ["+CMS ERROR: 340"]
    assert sim800.lines("AT+CSMS=1") == ["+CSMS: 1,1,1", "OK"]
    sim800.at("AT+CNMI=2,2,0,0,0")
    sim800.device.deliver("+40721000000", "ack me")
    assert sim800.device.read_output().startswith(b'\r\n+CMT: "",')
    assert sim800.lines("AT+CNMA") == ["OK"]
    assert sim800.lines("AT+CNMA") == ["+CMS ERROR: 340"]


def test_class_2_is_stored_even_with_mt_2_and_mt_3_routes_only_class_3(sim800: Host) -> None:
    sim800.at("AT+CNMI=2,2,0,0,0")
    sim800.device.deliver("+40721000000", "sim specific", message_class=2)
    assert sim800.device.read_output() == b'\r\n+CMTI: "SM",1\r\n'
    sim800.at("AT+CNMI=2,3,0,0,0")
    sim800.device.deliver("+40721000000", "te specific", message_class=3)
    assert sim800.device.read_output().startswith(b'\r\n+CMT: "",')
    sim800.device.deliver("+40721000000", "normal")
    assert sim800.device.read_output() == b'\r\n+CMTI: "SM",2\r\n'


def test_text_mode_cmt_header(sim800: Host) -> None:
    sim800.at("AT+CMGF=1")
    sim800.at("AT+CNMI=2,2,0,0,0")
    sim800.device.deliver("+40721000000", "texted")
    assert sim800.device.read_output() == (
        b'\r\n+CMT: "+40721000000","","24/02/08,14:20:00+08"\r\ntexted\r\n'
    )


def test_text_mode_ucs2_charset_is_hex(sim800: Host) -> None:
    sim800.at("AT+CMGF=1")
    sim800.at('AT+CSCS="UCS2"')
    sim800.device.deliver("+40721000000", "Ω")
    sim800.device.read_output()
    header, body, ok = sim800.lines("AT+CMGR=1")
    assert header.startswith('+CMGR: "REC UNREAD","002B00340030')
    assert (body, ok) == ("03A9", "OK")


def test_huawei_mode_1_accepts_ds_1_and_sends_cds() -> None:
    host = boot("huawei", report_delay=0.5)
    host.at("ATE0")
    assert host.lines("AT+CNMI=1,1,0,1,0") == ["OK"]
    part = pdu.encode_submit("+40721000001", "x", srr=True)[0]
    host.at(f"AT+CMGS={part.tpdu_length}")
    host.raw(part.hex.encode() + b"\x1a")
    assert host.wait(1.0).startswith(b"\r\n+CDS: 25\r\n")


def test_no_report_without_srr_or_with_outcome_none() -> None:
    for srr, outcome in ((False, "delivered"), (True, "none")):
        host = boot("sim800", report_delay=0.1, report_status=outcome)
        host.at("ATE0")
        host.at("AT+CNMI=2,1,0,1,0")
        part = pdu.encode_submit("+40721000001", "x", srr=srr)[0]
        host.at(f"AT+CMGS={part.tpdu_length}")
        host.raw(part.hex.encode() + b"\x1a")
        assert host.wait(1.0) == b""


def test_network_waits_while_the_modem_is_off() -> None:
    host = boot("sim800")
    host.device.power_off()
    host.device.deliver("+40721000000", "while unplugged")
    assert host.wait(1.0) == b""
    host.device.power_on(host.now)
    out = host.wait(2.0)
    assert out.endswith(b'SMS Ready\r\n\r\n+CMTI: "SM",1\r\n')


def test_unresponsive_device_ignores_input_but_keeps_messages(sim800: Host) -> None:
    sim800.device.faults.set_unresponsive(True)
    assert sim800.at("AT") == ""
    sim800.device.deliver("+40721000000", "queued inside")
    assert sim800.device.read_output() == b""
    sim800.device.faults.set_unresponsive(False)
    assert sim800.lines("AT+CPMS?")[0].startswith('+CPMS: "SM",1,50')


def test_generic_profile_is_plain_27005() -> None:
    host = boot("generic")
    assert host.wait(1.0) == b""  # no banner
    host.at("ATE0")
    assert host.lines("AT+CGMI") == ["Generic", "OK"]
    assert host.lines("AT+CNMI=2,1,0,2,0") == ["OK"]
    assert host.lines("AT+FOO") == ["ERROR"]


def _send_with_report(host: Host) -> None:
    part = pdu.encode_submit("+40721000001", "x", srr=True)[0]
    host.at(f"AT+CMGS={part.tpdu_length}")
    host.raw(part.hex.encode() + b"\x1a")


def test_with_csms_1_an_unacknowledged_cds_goes_back_to_the_network_and_comes_again() -> None:
    host = boot("sim800", report_delay=0.1, cnma_timeout=2.0, network_retry=10.0)
    host.at("ATE0")
    assert host.lines("AT+CSMS=1") == ["+CSMS: 1,1,1", "OK"]
    host.at("AT+CNMI=2,1,0,1,0")
    _send_with_report(host)
    first = host.wait(0.5)
    assert first.startswith(b"\r\n+CDS: 25\r\n")
    assert host.wait(2.0) == b""  # nobody acknowledged it (the daemon was down)
    # 27.005 §3.4.4: the ME turned routing off; the host sets it again when it is back.
    assert host.lines("AT+CNMI?") == ["+CNMI: 2,0,0,0,0", "OK"]
    host.at("AT+CNMI=2,1,0,1,0")
    assert host.wait(10.0) == first  # the SMSC offers the same report again
    assert host.lines("AT+CNMA") == ["OK"]
    assert host.wait(30.0) == b""  # acknowledged: never again
    assert host.lines("AT+CNMI?") == ["+CNMI: 2,1,0,1,0", "OK"]


def test_with_csms_0_a_cds_nobody_read_is_gone() -> None:
    host = boot("sim800", report_delay=0.1, cnma_timeout=2.0, network_retry=10.0)
    host.at("ATE0")
    host.at("AT+CMEE=1")
    host.at("AT+CNMI=2,1,0,1,0")
    _send_with_report(host)
    assert host.wait(0.5).startswith(b"\r\n+CDS: 25\r\n")
    assert host.wait(60.0) == b""
    assert host.lines("AT+CNMA") == ["+CMS ERROR: 340"]  # nothing to acknowledge


def test_with_csms_1_routed_pdus_wait_for_the_previous_acknowledgement() -> None:
    host = boot("sim800", cnma_timeout=5.0)
    host.at("ATE0")
    host.at("AT+CMEE=1")
    host.at("AT+CSMS=1")
    host.at("AT+CNMI=2,2,0,0,0")
    host.device.deliver("+40721000000", "first")
    host.device.deliver("+40721000000", "second")
    assert host.wait(0.1).count(b"+CMT:") == 1
    acknowledged = host.at("AT+CNMA")
    assert acknowledged.startswith("\r\nOK\r\n\r\n+CMT: ")  # the next one follows at once
    assert acknowledged.count("+CMT:") == 1
    assert host.lines("AT+CNMA") == ["OK"]
    assert host.lines("AT+CNMA") == ["+CMS ERROR: 340"]
