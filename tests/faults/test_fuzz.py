"""Fuzzing the two parsers that eat modem bytes: the PDU decoder and the AT parser.

Only typed errors are allowed (PduError / ValueError subclasses for PDUs, nothing at all for
the AT parser, which turns garbage into events). Inputs are seeded mutations of the 100 real
PDU vectors and of real AT replies (bit flips, truncation, splices, random bytes), plus a
hypothesis strategy. `make test` runs 20,000 inputs; `make faults` 1,000,000.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsgw import pdu
from smsgw.at.parser import AtParser
from smsgw.exceptions import PduError
from tests.faults.scale import counts_line

_PDU = b"0791448720003023240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B"
AT_SEEDS = [
    b'\r\n+CMTI: "SM",3\r\n',
    b"AT+CMGR=1\r\r\n+CMGR: 0,,24\r\n" + _PDU + b"\r\n\r\nOK\r\n",
    b"AT+CMGS=23\r\r\n> ",
    b"\r\n+CMGS: 12\r\n\r\nOK\r\n",
    b"\r\n+CMS ERROR: 321\r\n",
    b'\r\n+CMGL: 1,1,"",24\r\n' + _PDU + b"\r\n\r\nOK\r\n",
    b"\r\n^RSSI:15\r\n",
    b"\r\n+CDS: 25\r\n0791448720003023060C91449737019037000000000000000000000000000000\r\n",
    b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nCall Ready\r\n\r\nSMS Ready\r\n",
]


def _mutate(rng: random.Random, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(6)
        position = rng.randrange(len(data) + 1)
        if choice == 0 and data:  # flip a bit
            data[position % len(data)] ^= 1 << rng.randrange(8)
        elif choice == 1:  # truncate
            del data[position:]
        elif choice == 2:  # insert random bytes
            data[position:position] = rng.randbytes(rng.randint(1, 8))
        elif choice == 3 and data:  # overwrite with a random byte
            data[position % len(data)] = rng.randrange(256)
        elif choice == 4:  # duplicate a slice
            data[position:position] = data[position : position + rng.randint(1, 16)]
        else:  # pure noise
            data = bytearray(rng.randbytes(rng.randint(0, 64)))
    return bytes(data)


def _pdu_seeds(corpus_dir: Path) -> list[bytes]:
    vectors = json.loads((corpus_dir / "pdu_vectors.json").read_text())
    return [bytes.fromhex(v["pdu_hex"]) for v in vectors if v.get("smsc_included", True)]


def fuzz(
    inputs: int, seed: int, target: Callable[[bytes], None], seeds: list[bytes]
) -> Counter[str]:
    """Feed `inputs` mutations to `target`; count outcomes by exception type (or 'ok')."""
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    for _ in range(inputs):
        data = _mutate(rng, rng.choice(seeds))
        try:
            target(data)
        except PduError as error:
            outcomes[type(error).__name__] += 1
        else:
            outcomes["ok"] += 1
    return outcomes


def _decode(data: bytes) -> None:
    pdu.decode(data)
    pdu.decode(data.hex())  # the hex path too (what the modem layer passes)


def _parse(data: bytes) -> None:
    parser = AtParser(max_line=256)
    parser.expect("AT+CMGR=1")
    middle = len(data) // 2
    parser.feed(data[:middle])  # and split anywhere: the port delivers arbitrary chunks
    parser.feed(data[middle:])


def _run(corpus_dir: Path, inputs: int) -> None:
    decoded = fuzz(inputs // 2, 7, _decode, _pdu_seeds(corpus_dir))
    parsed = fuzz(inputs // 2, 8, _parse, AT_SEEDS)
    counts_line(
        "fuzz",
        inputs=inputs,
        pdu_outcomes=dict(decoded),
        at_outcomes=dict(parsed),
        unexpected_exceptions=0,  # any other exception fails the test before this line
    )
    assert decoded["ok"] > 0, decoded  # the mutations still reach the decoder's happy path
    assert sum(decoded.values()) + sum(parsed.values()) == inputs // 2 * 2


@pytest.mark.timeout(90)
def test_parsers_survive_20_000_mutated_inputs(corpus_dir: Path) -> None:
    _run(corpus_dir, 20_000)


@pytest.mark.faults
@pytest.mark.timeout(1800)
def test_parsers_survive_1_000_000_mutated_inputs(corpus_dir: Path) -> None:
    _run(corpus_dir, 1_000_000)


@given(st.binary(max_size=200))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_decoder_raises_only_pdu_errors_on_any_bytes(data: bytes) -> None:
    with contextlib.suppress(PduError):
        pdu.decode(data)


@pytest.mark.faults
@given(st.binary(max_size=200), st.integers(min_value=16, max_value=256))  # 16: parser minimum
@settings(max_examples=50_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_at_parser_never_raises_on_any_bytes_long(data: bytes, max_line: int) -> None:
    AtParser(max_line=max_line).feed(data)
