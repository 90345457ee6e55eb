"""The emulator's own AT line splitter (independent of smsgw.at by design)."""

from __future__ import annotations

import pytest

from smsgw.emulator.atline import Command, Form, LineSyntaxError, parse_line, split_args


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("AT", []),
        ("at+cgmi", [Command("+CGMI", Form.ACTION)]),
        ("ATE0V1", [Command("E", Form.SET, "0"), Command("V", Form.SET, "1")]),
        (
            "AT+CMEE=1;+CREG=2",
            [Command("+CMEE", Form.SET, "1"), Command("+CREG", Form.SET, "2")],
        ),
        ('AT+CPMS="SM;ME","SM"', [Command("+CPMS", Form.SET, '"SM;ME","SM"')]),
        ("AT+CNMI=?", [Command("+CNMI", Form.TEST)]),
        ("AT^CURC?", [Command("^CURC", Form.READ)]),
        ("AT&F", [Command("&F", Form.SET, "")]),
        ("ATS0=0", [Command("S0", Form.SET, "0")]),
        ("ATD+40721000000;", [Command("D", Form.SET, "+40721000000;")]),
    ],
)
def test_parse_line(line: str, expected: list[Command]) -> None:
    assert parse_line(line) == expected


@pytest.mark.parametrize("line", ["", "A", "XAT", 'AT+CPMS="SM', "AT&1", "AT!"])
def test_bad_lines_raise(line: str) -> None:
    with pytest.raises(LineSyntaxError):
        parse_line(line)


def test_split_args() -> None:
    assert split_args('2,1,,"SM", 0') == ["2", "1", None, "SM", "0"]
    assert split_args("") == []
