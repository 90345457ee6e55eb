"""Device properties: any byte split gives the same output; no input crashes it."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw import pdu
from tests.emulator.host import boot

SCRIPT = (
    b"AT\rATE0\r\x1bAT+CMEE=1;+CREG=2\r\nAT+CPMS=?\rAT+CNMI=2,1,0,1,0\r"
    b'AT+CPMS="SM","SM","SM"\rAT+CMGL=4\rAT+CMGR=1\rAT+CMGD=1\rAT+BOGUS\r'
)


def _run(profile: str, chunks: list[bytes]) -> bytes:
    host = boot(profile)
    host.device.deliver("+40721000000", "stored before the script")
    host.device.read_output()
    return b"".join(host.raw(chunk) for chunk in chunks)


@st.composite
def splits(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.sets(st.integers(1, len(data) - 1), max_size=20)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=40, deadline=None)
@given(chunks=splits(SCRIPT), profile=st.sampled_from(["sim800", "huawei"]))
def test_output_does_not_depend_on_how_input_is_split(chunks: list[bytes], profile: str) -> None:
    assert _run(profile, chunks) == _run(profile, [SCRIPT])


def _cmgs_script() -> bytes:
    part = pdu.encode_submit("+40721000001", "prompt split")[0]
    return f"AT+CMGS={part.tpdu_length}\r{part.hex}\x1aAT\r".encode()


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_prompt_input_split_anywhere(data: st.DataObject) -> None:
    script = _cmgs_script()
    chunks = data.draw(splits(script))
    assert _run("sim800", chunks) == _run("sim800", [script])


AT_ALPHABET = st.sampled_from(
    [b"AT", b"+", b"^", b"=", b"?", b",", b";", b'"', b"\r", b"\n", b"\x1a", b"\x1b", b"\x08",
     b"CMGS", b"CMGW", b"CMGR", b"CMGL", b"CMGD", b"CNMI", b"CPMS", b"CPIN", b"CSCS", b"CMGF",
     b"CMSS", b"CNMA", b"CSMS", b"CREG", b"CFUN", b"E", b"Z", b"&F", b"S0", b"D", b"0", b"1",
     b"2", b"4", b"99", b"-1", b"SM", b"ME", b"MT", b"SR", b"UCS2", b"00", b"0011", b"\xff"]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    tokens=st.lists(AT_ALPHABET, max_size=60),
    noise=st.binary(max_size=40),
    profile=st.sampled_from(["sim800", "huawei", "generic"]),
)
def test_no_input_crashes_the_device(tokens: list[bytes], noise: bytes, profile: str) -> None:
    host = boot(profile)
    host.device.deliver("+40721000000", "x")
    host.raw(b"".join(tokens) + noise + b"\x1b\rAT\r")
    host.wait(100.0)
    host.device.read_output()
    assert host.at("ATE1").endswith("OK\r\n")  # still alive and answering


COMMAND_NAMES = [
    "+CMGS", "+CMGW", "+CMGR", "+CMGL", "+CMGD", "+CMGDA", "+CNMI", "+CPMS", "+CPIN", "+CSCS",
    "+CMGF", "+CMSS", "+CNMA", "+CSMS", "+CREG", "+CFUN", "+CSCA", "+CSMP", "+CMEE", "^CURC",
    "+CSDH", "+CGMI", "+COPS", "+CSQ", "E", "S7", "+XYZ",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(COMMAND_NAMES),
            st.sampled_from(["", "?", "=?", "="]),
            st.text(alphabet='0123456789,"SMERTU-; ', max_size=12),
        ),
        max_size=8,
    ),
    text_mode=st.booleans(),
    profile=st.sampled_from(["sim800", "huawei"]),
)
def test_structured_commands_never_crash(
    lines: list[tuple[str, str, str]], text_mode: bool, profile: str
) -> None:
    host = boot(profile)
    host.device.deliver("+40721000000", "x")
    host.at(f"AT+CMGF={int(text_mode)}")
    for name, form, args in lines:
        host.raw(f"AT{name}{form}{args if form == '=' else ''}\r".encode() + b"\x1b")
    host.wait(100.0)
    assert host.at("AT").endswith("OK\r\n")
