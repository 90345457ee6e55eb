"""The Huawei persona (PROTOCOL.md §3): noise, COMMAND NOT SUPPORT, index 0, +CDSI, CNMI rules."""

from __future__ import annotations

import pytest

from smsgw import pdu
from smsgw.emulator import Device, DeviceOptions, get_profile
from tests.emulator.host import Host, boot


def test_boot_noise_and_periodic_rssi_until_curc_0() -> None:
    device = Device(get_profile("huawei"), DeviceOptions(noise_interval=9.0))
    device.power_on(0.0)
    host = Host(device)
    boot_lines = host.wait(1.0).decode().split()
    assert boot_lines == ["^BOOT:27710117,0,0,0,75", "^MODE:5,4", "^SRVST:0", "^SIMST:1"]
    assert host.wait(8.5) == b"\r\n^RSSI:18\r\n"
    assert host.at("AT^CURC=0") == "AT^CURC=0\r\r\nOK\r\n"
    assert host.wait(30.0) == b""
    device.reboot()  # ^CURC is volatile: the noise is back after a reset
    assert b"^BOOT:" in host.wait(1.0)


def test_unknown_commands_say_command_not_support(huawei: Host) -> None:
    assert huawei.at("AT+WIND?") == "\r\nCOMMAND NOT SUPPORT\r\n"
    assert huawei.at("AT+CMGDA=6") == "\r\nCOMMAND NOT SUPPORT\r\n"
    huawei.at("AT+CMEE=1")
    assert huawei.at("AT+ZPAS?") == "\r\nCOMMAND NOT SUPPORT\r\n"


def test_identity_and_unquoted_creg(huawei: Host) -> None:
    assert huawei.lines("AT+CGMI;+CGMM;+CGMR") == ["huawei", "E1752", "11.126.13.00.00", "OK"]
    huawei.at("AT+CREG=2")
    assert huawei.lines("AT+CREG?") == ["+CREG: 2,1,4CA,81DE445", "OK"]


def test_cscs_read_has_an_extra_blank_line(huawei: Host) -> None:
    assert huawei.at("AT+CSCS?") == '\r\n+CSCS: "GSM"\r\n\r\n\r\nOK\r\n'


def test_storage_index_starts_at_zero_and_alpha_is_empty(huawei: Host) -> None:
    huawei.at("AT+CNMI=2,1,0,2,0")
    (one,) = huawei.device.deliver("+40721000000", "zero based")
    assert huawei.device.read_output() == b'\r\n+CMTI: "SM",0\r\n'
    length = len(one) // 2 - 8
    assert huawei.lines("AT+CMGR=0") == [f"+CMGR: 0,,{length}", one, "OK"]
    assert huawei.lines("AT+CMGL=4") == [f"+CMGL: 0,1,,{length}", one, "OK"]
    assert huawei.lines("AT+CMGD=?") == ["+CMGD: (0-49),(0-4)", "OK"]
    assert huawei.lines("AT+CMGR=50") == ["ERROR"]


@pytest.mark.parametrize(
    ("setting", "accepted"),
    [
        ("2,1,0,1,0", False),  # ds=1 not allowed with mode 2 (MU509 spec, §3.3.2)
        ("0,1,0,1,0", False),
        ("1,1,0,1,0", True),  # the spec's own example
        ("2,1,0,2", True),  # python-gsmmodem's default works here
        ("2,1,0,2,0", True),
        ("2,1,0,0,0", True),
        ("3,1,0,0,0", False),
    ],
)
def test_cnmi_acceptance_table(huawei: Host, setting: str, accepted: bool) -> None:
    assert huawei.lines(f"AT+CNMI={setting}")[-1] == ("OK" if accepted else "ERROR")


def test_status_report_with_ds2_is_stored_in_sr_and_announced_with_cdsi() -> None:
    host = boot("huawei", report_delay=1.0)
    host.at("ATE0")
    host.at("AT+CNMI=2,1,0,2,0")
    part = pdu.encode_submit("+40721000001", "report me", srr=True)[0]
    host.at(f"AT+CMGS={part.tpdu_length}")
    assert host.raw(part.hex.encode() + b"\x1a") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    assert host.wait(1.5) == b'\r\n+CDSI: "SR",0\r\n'
    host.at('AT+CPMS="SR"')
    header, report_hex, ok = host.lines("AT+CMGR=0")
    assert header.startswith("+CMGR: 0,,")
    assert ok == "OK"
    report = pdu.decode(report_hex)
    assert isinstance(report, pdu.StatusReport)
    assert (report.reference, report.number, report.outcome) == (0, "+40721000001", "delivered")


def test_cpms_sets_and_mt_view(huawei: Host) -> None:
    assert huawei.lines('AT+CPMS="ME","ME"') == ["+CPMS: 0,23,0,23,0,50", "OK"]
    assert huawei.lines('AT+CPMS="SM_P"') == ["ERROR"]
    huawei.at('AT+CPMS="SM","SM","ME"')
    huawei.at("AT+CNMI=2,1,0,2,0")
    huawei.device.deliver("+40721000000", "to ME")
    assert huawei.device.read_output() == b'\r\n+CMTI: "ME",0\r\n'
    huawei.at('AT+CPMS="MT"')
    assert huawei.lines("AT+CMGL=4")[0].startswith("+CMGL: 50,0,,")  # ME follows SM's 50 slots
