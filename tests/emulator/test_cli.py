"""`smsgw emulator serve` as a real process, driven by the other subcommands (CONTRACT §4)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

pytestmark = pytest.mark.timeout(40)

SMSGW = [sys.executable, "-m", "smsgw"]


def smsgw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SMSGW, *args], capture_output=True, text=True, timeout=20)


def read_until(port: serial.Serial, marker: bytes, timeout: float = 5.0) -> bytes:
    deadline = time.monotonic() + timeout
    data = b""
    while marker not in data:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {marker!r}; got {data!r}")
        data += port.read(4096)
    return data


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Path]:
    link = tmp_path / "modem"
    process = subprocess.Popen(
        [*SMSGW, "emulator", "serve", "--profile", "sim800", "--link", str(link),
         "--cmgs-delay", "0.1", "--report-delay", "0.2"],
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "serve.log").open("w"),
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "emulated sim800 modem" in first, first
        assert link.is_symlink()
        assert Path(str(link) + ".ctl").exists()
        yield link
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert not link.exists()


def test_deliver_sent_urc_reboot_unplug_through_the_control_socket(served: Path) -> None:
    port = serial.Serial(str(served), 115200, timeout=0.05)
    try:
        read_until(port, b"", 0.5)
        port.write(b"ATE0\r")
        read_until(port, b"OK\r\n")

        result = smsgw("emulator", "deliver", "--link", str(served), "--sender", "+40721000000",
                       "Ünïcödé 😀 " * 20)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"parts": 4}
        cmti = read_until(port, b'+CMTI: "SM",4\r\n')
        assert cmti.count(b"+CMTI:") == 4

        result = smsgw("emulator", "urc", "--link", str(served), "RING")
        assert result.returncode == 0, result.stderr
        assert read_until(port, b"RING\r\n").endswith(b"\r\nRING\r\n")

        from smsgw import pdu

        part = pdu.encode_submit("+40721000009", "cli test")[0]
        port.write(f"AT+CMGS={part.tpdu_length}\r".encode())
        read_until(port, b"> ")
        port.write(part.hex.encode() + b"\x1a")
        read_until(port, b"OK\r\n")
        result = smsgw("emulator", "sent", "--control", str(served) + ".ctl")
        assert result.returncode == 0, result.stderr
        (line,) = result.stdout.splitlines()
        sent = json.loads(line)
        assert {k: sent[k] for k in ("recipient", "text", "parts", "mr")} == {
            "recipient": "+40721000009", "text": "cli test", "parts": 1, "mr": 0,
        }  # fmt: skip
        assert "time" in sent

        assert smsgw("emulator", "reboot", "--link", str(served)).returncode == 0
        assert b"RDY" in read_until(port, b"SMS Ready\r\n")

        # While this old port stays open its pty number cannot be reused, so a link to a
        # different pty proves unplug + replug happened, however long the CLI took to exit
        # (under load it may outlive the 0.5 s, so "the link is gone now" would be a race).
        unplugged = os.readlink(served)
        assert smsgw("emulator", "unplug", "--link", str(served), "--for", "0.5").returncode == 0
        deadline = time.monotonic() + 10
        while _link_target(served) in (None, unplugged) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert served.is_symlink()
        assert os.readlink(served) != unplugged
        with pytest.raises(serial.SerialException):  # the old pty is hung up for good
            read_until(port, b"OK\r\n", 1.0)
    finally:
        port.close()


def _link_target(link: Path) -> str | None:
    try:
        return os.readlink(link)
    except FileNotFoundError:
        return None


def test_deliver_pdu_verbatim(served: Path) -> None:
    hexpdu = "07913306092041F0040B913306991364F60008619091516061800AD83DDE03D83DDE0E0020"
    port = serial.Serial(str(served), 115200, timeout=0.05)
    assert smsgw("emulator", "deliver", "--link", str(served), "--pdu", hexpdu).returncode == 0
    try:
        read_until(port, b'+CMTI: "SM",1\r\n')  # held at the "SMSC" until the modem is ready
        port.write(b"AT+CMGR=1\r")
        assert hexpdu.encode() in read_until(port, b"OK\r\n")
    finally:
        port.close()


def test_errors_are_one_line_and_exit_codes_follow_the_contract(tmp_path: Path) -> None:
    missing = smsgw("emulator", "sent", "--control", str(tmp_path / "nope.ctl"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: cannot reach the emulator")
    usage = smsgw("emulator", "deliver", "--link", str(tmp_path / "m"), "text only")
    assert usage.returncode == 2
    bad_profile = smsgw("emulator", "serve", "--profile", "nokia", "--link", str(tmp_path / "m"))
    assert bad_profile.returncode == 2
    assert "unknown profile" in bad_profile.stderr


def test_bad_pdu_is_reported_not_crashing(served: Path) -> None:
    result = smsgw("emulator", "deliver", "--link", str(served), "--pdu", "XYZ")
    assert result.returncode == 1
    assert result.stderr.startswith("error:")
    assert smsgw("emulator", "sent", "--link", str(served)).returncode == 0


def test_serve_pin_flag_locks_the_sim(tmp_path: Path) -> None:
    link = tmp_path / "locked"
    process = subprocess.Popen(
        [*SMSGW, "emulator", "serve", "--profile", "huawei", "--link", str(link), "--pin", "1234"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert "emulated huawei modem" in process.stdout.readline()
        port = serial.Serial(str(link), 115200, timeout=0.05)
        try:
            port.write(b"AT+CPIN?\r")
            assert b"+CPIN: SIM PIN\r\n" in read_until(port, b"OK\r\n")
            port.write(b'AT+CPIN="1234"\r')
            read_until(port, b"OK\r\n")
            port.write(b"AT+CPIN?\r")
            assert b"+CPIN: READY\r\n" in read_until(port, b"OK\r\n")
        finally:
            port.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_serve_own_number_is_what_cnum_reads(tmp_path: Path) -> None:
    link = tmp_path / "numbered"
    process = subprocess.Popen(
        [*SMSGW, "emulator", "serve", "--link", str(link), "--own-number", "+40721999000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert "emulated sim800 modem" in process.stdout.readline()
        port = serial.Serial(str(link), 115200, timeout=0.05)
        try:
            port.write(b"AT+CNUM\r")
            assert b'+CNUM: "","+40721999000",145,7,4\r\n' in read_until(port, b"OK\r\n")
        finally:
            port.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    bad = smsgw("emulator", "serve", "--link", str(tmp_path / "m"), "--own-number", "call me")
    assert bad.returncode == 2
    assert "--own-number" in bad.stderr


def test_serve_ussd_text_only_and_ring(tmp_path: Path) -> None:
    link = tmp_path / "ussd"
    process = subprocess.Popen(
        [*SMSGW, "emulator", "serve", "--link", str(link), "--text-only",
         "--ussd", "*100#=Credit: 9.99 RON"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert "emulated sim800 modem" in process.stdout.readline()
        port = serial.Serial(str(link), 115200, timeout=0.05)
        try:
            read_until(port, b"SMS Ready\r\n")
            port.write(b"ATE0\r")
            read_until(port, b"OK\r\n")
            port.write(b"AT+CMGF=0\r")
            assert read_until(port, b"ERROR\r\n") == b"\r\nERROR\r\n"
            port.write(b"AT+CLIP=1\r")
            read_until(port, b"OK\r\n")
            assert smsgw("emulator", "ring", "+40721000042", "--link", str(link)).returncode == 0
            assert b'+CLIP: "+40721000042",145,"",0,"",0\r\n' in read_until(port, b",0\r\n")
            port.write(b"ATH\r")
            read_until(port, b"OK\r\n")
            port.write(b'AT+CUSD=1,"*100#",15\r')
            assert read_until(port, b",15\r\n").endswith(b'\r\n+CUSD: 0,"Credit: 9.99 RON",15\r\n')
        finally:
            port.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    bad = smsgw("emulator", "serve", "--link", str(tmp_path / "m"), "--ussd", "no equals sign")
    assert bad.returncode == 2
    assert "--ussd" in bad.stderr
