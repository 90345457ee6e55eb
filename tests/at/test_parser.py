"""The sans-I/O parser: every stream is also fed split at every byte position."""

from __future__ import annotations

import pytest

from smsgw.at.parser import (
    AtParser,
    Discarded,
    Echo,
    Event,
    Final,
    FinalKind,
    Line,
    Prompt,
    Urc,
    response_prefix,
)

CMT_PDU = "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"


def parse(stream: bytes, command: str | None = None, payload: str | None = None) -> list[Event]:
    """Events for `stream` fed whole; asserts every two-way split gives the same events."""
    whole = _fresh(command, payload).feed(stream)
    for cut in range(1, len(stream)):
        parser = _fresh(command, payload)
        split = parser.feed(stream[:cut]) + parser.feed(stream[cut:])
        assert split == whole, f"split at {cut} differs"
    one_by_one = _fresh(command, payload)
    assert [e for i in range(len(stream)) for e in one_by_one.feed(stream[i : i + 1])] == whole
    return whole


def _fresh(command: str | None, payload: str | None) -> AtParser:
    parser = AtParser()
    parser.expect(command, payload=payload)
    return parser


def test_plain_reply_with_echo_and_information_line() -> None:
    events = parse(b"AT+CSQ\r\r\n+CSQ: 13,0\r\n\r\nOK\r\n", "AT+CSQ")
    assert events == [Echo("AT+CSQ"), Line("+CSQ: 13,0"), Final(FinalKind.OK, "OK")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"\r\nERROR\r\n", Final(FinalKind.ERROR, "ERROR")),
        (b"\r\n+CME ERROR: 11\r\n", Final(FinalKind.CME, "11", 11)),
        (b"\r\n+CMS ERROR: 321\r\n", Final(FinalKind.CMS, "321", 321)),
        (b"\r\n+CMS ERROR: unknown error\r\n", Final(FinalKind.CMS, "unknown error")),
        (b"\r\nCOMMAND NOT SUPPORT\r\n", Final(FinalKind.ERROR, "COMMAND NOT SUPPORT")),
        (b"\r\nMODEM ERROR: 4\r\n", Final(FinalKind.ERROR, "MODEM ERROR: 4")),
        (b"OK\n", Final(FinalKind.OK, "OK")),
    ],
)
def test_final_result_forms(raw: bytes, expected: Final) -> None:
    assert parse(raw, "AT+CMGD=1") == [expected]


def test_prompt_has_no_line_end_and_is_reported_immediately() -> None:
    events = parse(b"AT+CMGS=23\r\r\n> ", "AT+CMGS=23")
    assert events == [Echo("AT+CMGS=23"), Prompt()]


def test_prompt_followed_by_pdu_echo_and_result() -> None:
    pdu = "0011000B911326880736F40000A80AE8329BFD4697D9EC37"
    stream = f"\r\n> {pdu}\x1a\r\n\r\n+CMGS: 249\r\n\r\nOK\r\n".encode()
    events = parse(stream, "AT+CMGS=23", pdu)
    assert events == [Prompt(), Echo(pdu + "\x1a"), Line("+CMGS: 249"), Final(FinalKind.OK, "OK")]


def test_urc_before_echo_and_inside_reply_huawei_e1752() -> None:
    stream = (
        b'^SRVST:0\r\nAT+CPMS="SM","SM"\r\r\n+CPMS: 0,50,0,50,0,20\r\n\r\n^RSSI:18\r\n\r\nOK\r\n'
    )
    events = parse(stream, 'AT+CPMS="SM","SM"')
    assert events == [
        Urc("^SRVST", "0", "^SRVST:0"),
        Echo('AT+CPMS="SM","SM"'),
        Line("+CPMS: 0,50,0,50,0,20"),
        Urc("^RSSI", "18", "^RSSI:18"),
        Final(FinalKind.OK, "OK"),
    ]


def test_cmti_first_line_after_cpin_query() -> None:
    events = parse(b'\r\n+CMTI: "ME",0\r\n\r\n+CPIN: READY\r\n\r\nOK\r\n', "AT+CPIN?")
    assert events == [
        Urc("+CMTI", '"ME",0', '+CMTI: "ME",0'),
        Line("+CPIN: READY"),
        Final(FinalKind.OK, "OK"),
    ]


def test_shared_prefix_is_a_urc_when_another_command_is_pending() -> None:
    assert parse(b"\r\n+CPIN: NOT READY\r\n", "AT+CSQ") == [
        Urc("+CPIN", "NOT READY", "+CPIN: NOT READY")
    ]
    assert parse(b"\r\n+CREG: 1,8BE3,2BAF\r\n", None) == [
        Urc("+CREG", "1,8BE3,2BAF", "+CREG: 1,8BE3,2BAF")
    ]
    assert parse(b"\r\n+CREG: 2,1,8BE3,2BAF\r\n", "AT+CREG?") == [Line("+CREG: 2,1,8BE3,2BAF")]


@pytest.mark.parametrize(
    ("header", "name", "args"),
    [
        (b'+CMT: "",24', "+CMT", '"",24'),
        (b"+CMT: ,51", "+CMT", ",51"),
        (b"+CDS: 25", "+CDS", "25"),
        (b"+CDS:25", "+CDS", "25"),
    ],
)
def test_two_line_urcs_carry_their_pdu(header: bytes, name: str, args: str) -> None:
    stream = b"\r\n" + header + b"\r\n" + CMT_PDU.encode() + b"\r\n"
    assert parse(stream) == [Urc(name, args, header.decode(), CMT_PDU)]


def test_two_line_urc_inside_a_reply_does_not_steal_reply_lines() -> None:
    stream = b"\r\n+CSQ: 15,0\r\n\r\n+CDS: 25\r\n" + CMT_PDU.encode() + b"\r\n\r\nOK\r\n"
    assert parse(stream, "AT+CSQ") == [
        Line("+CSQ: 15,0"),
        Urc("+CDS", "25", "+CDS: 25", CMT_PDU),
        Final(FinalKind.OK, "OK"),
    ]


def test_two_line_header_without_pdu_is_reported_alone() -> None:
    assert parse(b"\r\n+CMT: ,23\r\nOK\r\n", "AT") == [
        Urc("+CMT", ",23", "+CMT: ,23"),
        Final(FinalKind.OK, "OK"),
    ]


def test_text_mode_status_report_is_one_line() -> None:
    line = '+CDS: 6,46,"+420123",145,"12/01/02,10:00:00+04","12/01/02,10:00:05+04",0'
    assert parse(f"\r\n{line}\r\n".encode()) == [Urc("+CDS", line[6:], line)]


@pytest.mark.parametrize(
    "line",
    [
        "RDY",
        "+CFUN: 1",
        "+CPIN: READY",
        "Call Ready",
        "SMS Ready",
        "RING",
        "NORMAL POWER DOWN",
        "UNDER-VOLTAGE WARNNING",
        "UNDER-VOLTAGE POWER DOWN",
        "^BOOT:27710117,0,0,0,75",
        "^MODE:3,3",
        "^SIMST:1",
        '^HCSQ:"LTE",59,50,161,24',
        "^DSFLOWRPT:00000124,00000082,00000EA6,0000000000012325,000000000022771D,0000BB80,0",
        '*PSUTTZ: 2026,11,27,4,10,3,"+8",0',
        '+CTZV: "+8",0',
        "DST: 0",
        '+CDSI: "SR",0',
        "NO CARRIER",
    ],
)
def test_single_line_urcs_between_commands(line: str) -> None:
    events = parse(f"\r\n{line}\r\n".encode())
    assert len(events) == 1
    assert isinstance(events[0], Urc)
    assert events[0].line == line


def test_no_carrier_ends_a_dial_command() -> None:
    assert parse(b"\r\nNO CARRIER\r\n", "ATD+123;") == [Final(FinalKind.CALL, "NO CARRIER")]


def test_blank_lines_and_bare_line_ends_are_skipped() -> None:
    stream = b'\r\n+CSCS: "GSM"\r\n\r\n\r\n\r\nOK\r\n\r\n'
    assert parse(stream, "AT+CSCS?") == [Line('+CSCS: "GSM"'), Final(FinalKind.OK, "OK")]


def test_unknown_lines_without_a_command_are_plain_lines() -> None:
    assert parse(b"\r\nSIMCOM_Ltd\r\n") == [Line("SIMCOM_Ltd")]


def test_overlong_line_is_discarded_and_memory_stays_bounded() -> None:
    parser = AtParser(max_line=64)
    events: list[Event] = []
    for _ in range(1000):
        events += parser.feed(b"x" * 100)
        assert parser.buffered <= 64
    events += parser.feed(b"\r\nOK\r\n")
    assert events == [Discarded(100_000), Final(FinalKind.OK, "OK")]


def test_garbage_bytes_never_raise() -> None:
    events = AtParser().feed(bytes(range(256)) * 3 + b"\r\nOK\r\n")
    assert events[-1] == Final(FinalKind.OK, "OK")


def test_expect_none_forgets_the_command() -> None:
    parser = AtParser()
    parser.expect("AT+CREG?")
    parser.expect(None)
    assert parser.feed(b"\r\n+CREG: 0,1\r\n") == [Urc("+CREG", "0,1", "+CREG: 0,1")]


def test_max_line_must_be_sane() -> None:
    with pytest.raises(ValueError, match="max_line"):
        AtParser(max_line=2)


@pytest.mark.parametrize(
    ("command", "prefix"),
    [
        ("AT+CREG?", "+CREG"),
        ("at+cmgs=23", "+CMGS"),
        ("AT^CURC=0", "^CURC"),
        ("ATE0", None),
        ("ATI", None),
    ],
)
def test_response_prefix(command: str, prefix: str | None) -> None:
    assert response_prefix(command) == prefix
