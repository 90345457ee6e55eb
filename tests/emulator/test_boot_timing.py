"""SIM800 boot timing (PROTOCOL.md §2.1) and what a client sees before `SMS Ready`.

Documented in docs/emulator.md: RDY at 0 s, `+CFUN: 1` at 0.05 s, `+CPIN: READY` at 0.1 s,
`Call Ready` at 0.3 s, `SMS Ready` at 0.4 s, times multiplied by `boot_scale`. Before
`SMS Ready`: basic and identity commands answer, SMS commands fail with `+CMS ERROR: 302`
(`ERROR` with `AT+CMEE=0`), and an SMS from the network waits at the SMSC.
"""

from __future__ import annotations

import pytest

from smsgw.emulator import Device, DeviceOptions, get_profile
from tests.emulator.host import Host

SIM800_BANNER = [
    (0.0, "RDY"),
    (0.05, "+CFUN: 1"),
    (0.1, "+CPIN: READY"),
    (0.3, "Call Ready"),
    (0.4, "SMS Ready"),
]


def _powered(scale: float) -> Host:
    device = Device(get_profile("sim800"), DeviceOptions(noise_interval=0, boot_scale=scale))
    device.power_on(0.0)
    return Host(device)


@pytest.mark.parametrize("scale", [1.0, 5.0])
def test_each_banner_line_comes_at_its_time(scale: float) -> None:
    host = _powered(scale)
    elapsed = 0.0
    for at, line in SIM800_BANNER:
        due = at * scale
        if due > elapsed:
            assert host.wait(due - elapsed - 0.001) == b"", line  # not a moment early
            elapsed = due - 0.001
        assert host.wait(due - elapsed) == f"\r\n{line}\r\n".encode()
        elapsed = due
    assert host.wait(60.0) == b""  # and nothing more


def test_before_sms_ready_sms_commands_fail_and_others_answer() -> None:
    host = _powered(1.0)
    host.wait(0.2)  # RDY, +CFUN, +CPIN seen; Call Ready and SMS Ready not yet
    assert host.at("AT") == "AT\r\r\nOK\r\n"
    host.at("ATE0")
    assert host.lines("AT+CGMI") == ["SIMCOM_Ltd", "OK"]
    assert host.lines("AT+CPIN?") == ["+CPIN: READY", "OK"]
    assert host.lines("AT+CMGF=0") == ["ERROR"]  # CMEE=0: plain ERROR
    host.at("AT+CMEE=1")
    for command in ("AT+CMGF=0", "AT+CPMS?", "AT+CNMI=2,1,0,1,0", "AT+CMGL=4", "AT+CMGR=1"):
        assert host.lines(command) == ["+CMS ERROR: 302"], command
    host.at("AT+CMEE=2")
    assert host.lines("AT+CMGS=20") == ["+CMS ERROR: operation not allowed"]
    assert host.wait(0.2).endswith(b"\r\nSMS Ready\r\n")
    assert host.lines("AT+CMGF=0") == ["OK"]


def test_an_sms_sent_during_boot_arrives_after_sms_ready() -> None:
    host = _powered(1.0)
    host.wait(0.1)
    host.device.deliver("+40721000000", "early bird")
    out = host.wait(0.5).decode()
    assert out.index("SMS Ready") < out.index('+CMTI: "SM",1')
