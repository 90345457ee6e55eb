"""Command builders: exact wire text, timeouts, and rejection of unsafe arguments."""

from __future__ import annotations

import pytest

from smsgw.at import commands as c


def test_wire_forms() -> None:
    assert c.echo(False).wire == b"ATE0\r"
    assert c.pin_enter("1234").text == 'AT+CPIN="1234"'
    assert c.storage_select("SM", "SM", "SM").text == 'AT+CPMS="SM","SM","SM"'
    assert c.indications(2, 1, 0, 1, 0).text == "AT+CNMI=2,1,0,1,0"
    assert c.delete_message(3).text == "AT+CMGD=3"
    assert c.delete_message(1, 4).text == "AT+CMGD=1,4"
    assert c.list_messages().text == "AT+CMGL=4"
    assert c.read_message(0).text == "AT+CMGR=0"


def test_send_pdu_uses_the_long_timeout_and_writes_ctrl_z() -> None:
    command = c.send_pdu("0011000b911326880736f40000a80ae8329bfd4697d9ec37", 23)
    assert command.text == "AT+CMGS=23"
    assert command.timeout == c.SEND_TIMEOUT == 60.0
    assert command.wire_payload.endswith(b"EC37\x1a")
    assert c.signal_quality().timeout == c.DEFAULT_TIMEOUT
    with pytest.raises(ValueError, match="payload"):
        _ = c.signal_quality().wire_payload


@pytest.mark.parametrize(
    "build",
    [
        lambda: c.pin_enter('12"\rAT+CFUN=0'),
        lambda: c.pin_enter("12"),
        lambda: c.storage_select('SM"'),
        lambda: c.read_message(-1),
        lambda: c.delete_message(1, 9),
        lambda: c.indications(2, 1, 0, 4, 0),
        lambda: c.send_pdu("00ZZ", 1),
        lambda: c.send_pdu("0011", 23),
        lambda: c.Command("ATE0\rATZ"),
        lambda: c.Command("hello"),
        lambda: c.Command("AT", timeout=0),
    ],
)
def test_bad_arguments_are_rejected(build: object) -> None:
    assert callable(build)
    with pytest.raises(ValueError, match=r"."):
        build()


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("AT+CMGS=23", "AT+CMGS"),
        ("at+cmgr=3", "AT+CMGR"),
        ("AT+CPMS?", "AT+CPMS?"),
        ("AT+CNMI=?", "AT+CNMI=?"),
        ('AT+CPMS="SM","SM","SM"', "AT+CPMS"),
        ("ATE0", "ATE0"),
    ],
)
def test_command_name_drops_arguments_for_bounded_metric_labels(text: str, name: str) -> None:
    assert c.Command(text).name == name
