"""Fuzzing: random bytes and mutated real replies must give events or typed errors only.

The seeded loop covers the required 100,000+ inputs quickly; the hypothesis tests explore
structure-aware inputs (valid lines, split anywhere) with shrinking when something fails.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsgw.at import identity, messages, network, storage, value_lists
from smsgw.at.parser import DEFAULT_MAX_LINE, AtParser, Event, Line, Urc
from smsgw.exceptions import AtResponseError

pytestmark = pytest.mark.timeout(90)

LINE_PARSERS: list[Callable[[str], object]] = [
    network.parse_csq,
    network.parse_creg,
    network.parse_cops,
    network.parse_cops_list,
    storage.parse_cpms_support,
    storage.parse_cpms_query,
    storage.parse_cpms_set,
    value_lists.parse_cnmi_support,
    value_lists.parse_cmgd_support,
    messages.parse_cmgr_header,
    messages.parse_cmgl_header,
    messages.parse_cmgs,
    identity.parse_cpin,
    identity.parse_csca,
    lambda text: identity.parse_identity([text]),
]

COMMANDS = [None, "AT+CSQ", "AT+CREG?", "AT+CPIN?", "AT+CMGS=23", "AT+CMGL=4", "ATD123;"]


def corpus_replies(corpus: Path) -> list[bytes]:
    """Every real reply in the corpus as raw bytes (gammu dumps and the JSON tables)."""
    replies = [p.read_bytes() for p in sorted(corpus.glob("gammu/*/*.dump"))]
    replies += [
        line.strip().strip('",').encode().decode("unicode_escape").encode("latin-1")
        for line in (corpus / "gammu" / "atgen_test_modem_replies.txt").read_text().splitlines()
        if line.strip().startswith('"')
    ]
    fake = json.loads((corpus / "python-gsmmodem" / "fakemodems_responses.json").read_text())
    replies += [s.encode() for s in _strings(fake)]
    mm = json.loads((corpus / "modemmanager" / "cops_creg_replies.json").read_text())
    replies += [s.encode() for s in _strings(mm)]
    return [r for r in replies if r]


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2:
            del buf[pos : pos + rng.randint(1, 16)]
        elif op == 3:
            buf[pos:pos] = rng.choice([b"\r", b"\n", b"\r\n", b"> ", b"\x1a", b",", b'"', b"("])
        elif op == 4:
            other = rng.choice(pool)
            start = rng.randrange(len(other))
            buf[pos:pos] = other[start : start + rng.randint(1, 64)]
        elif op == 5:
            buf = buf[:pos]
        else:
            buf[pos:pos] = buf[pos : pos + rng.randint(1, 32)]
    return bytes(buf)


def check(data: bytes, command: str | None, cut: int) -> list[Event]:
    parser = AtParser()
    parser.expect(command, payload="0011" if command == "AT+CMGS=23" else None)
    events = parser.feed(data[:cut]) + parser.feed(data[cut:])
    assert parser.buffered <= DEFAULT_MAX_LINE
    return events


def parse_lines(events: list[Event]) -> None:
    for event in events:
        if isinstance(event, Line | Urc):
            text = event.text if isinstance(event, Line) else event.line
            for parse in LINE_PARSERS:
                with contextlib.suppress(AtResponseError):
                    parse(text)


def test_seeded_fuzz_over_100k_inputs(corpus_dir: Path) -> None:
    rng = random.Random(20261127)
    pool = corpus_replies(corpus_dir)
    assert len(pool) > 100
    total = 0
    for data in pool:  # every real reply, unmodified, split at a random point
        parse_lines(check(data, rng.choice(COMMANDS), rng.randrange(len(data) + 1)))
        total += 1
    while total < 100_000:
        if total % 4 == 0:
            data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 48)))
        else:
            data = mutate(rng, rng.choice(pool), pool)
        events = check(data, rng.choice(COMMANDS), rng.randrange(len(data) + 1))
        if total % 10 == 0:
            parse_lines(events)
        total += 1
    assert total >= 100_000


def test_endless_stream_without_line_ends_stays_bounded() -> None:
    parser = AtParser()
    rng = random.Random(1)
    for _ in range(2000):
        parser.feed(bytes(rng.choice(b'ABCDEF0123456789 ,"+') for _ in range(512)))
        assert parser.buffered <= DEFAULT_MAX_LINE


_lines = st.sampled_from(
    [
        b"OK",
        b"ERROR",
        b"+CMS ERROR: 321",
        b"+CME ERROR: SIM busy",
        b'+CMTI: "SM",3',
        b"+CDS: 25",
        b"07911326040000F0040B911346610089F60000",
        b"+CSQ: 13,0",
        b"^RSSI:18",
        b"SMS Ready",
        b"> ",
        b"AT+CSQ",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(_lines, st.binary(max_size=12)), max_size=12),
    st.lists(st.sampled_from([b"\r\n", b"\r", b"\n", b"\r\r\n", b""]), min_size=12, max_size=12),
    st.data(),
)
def test_structured_streams_split_anywhere_match_whole(
    pieces: list[bytes], ends: list[bytes], data: st.DataObject
) -> None:
    stream = b"".join(p + e for p, e in zip(pieces, ends, strict=False))
    cut = data.draw(st.integers(0, len(stream)))
    command = data.draw(st.sampled_from(COMMANDS))
    whole = AtParser()
    whole.expect(command)
    assert check(stream, command, cut) == whole.feed(stream)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_response_parsers_raise_only_typed_errors(text: str) -> None:
    for parse in LINE_PARSERS:
        with contextlib.suppress(AtResponseError):
            parse(text)
