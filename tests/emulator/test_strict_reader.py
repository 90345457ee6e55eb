"""A strict line reader (header, then the PDU on the very next line) reads every stored
message on both profiles: received SMS (multipart, UCS-2), status reports and drafts."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsgw import pdu
from smsgw.emulator import DeviceOptions, EmulatedModem
from smsgw.emulator.storage import Stat
from tests.emulator.host import FIXED_TIME, Host, boot
from tests.emulator.serial_client import RawClient
from tests.emulator.strict_reader import StrictReader, StrictReadError


def _fill(host: Host) -> dict[str, str]:
    """Store a mix of messages; returns pdu_hex -> what it is."""
    expected: dict[str, str] = {}
    for pdu_hex in host.device.deliver("+40721000000", "plain hello"):
        expected[pdu_hex] = "deliver"
    for pdu_hex in host.device.deliver("+40721000001", "Привет 😀 " * 12):
        expected[pdu_hex] = "deliver"
    storage = host.device.storage("SM")
    report = pdu.encode_status_report(9, "+40721000002", FIXED_TIME, FIXED_TIME, 0).hex
    storage.store(Stat.REC_UNREAD, report)
    expected[report] = "report"
    draft = pdu.encode_submit("+40721000003", "draft")[0].hex
    storage.store(Stat.STO_UNSENT, draft)
    expected[draft] = "submit"
    host.device.read_output()
    return expected


@pytest.mark.parametrize("profile", ["sim800", "huawei", "generic"])
def test_strict_reader_lists_and_reads_every_stored_message(profile: str) -> None:
    host = boot(profile)
    host.at("ATE0")
    host.at("AT+CNMI=2,1,0,0,0")
    expected = _fill(host)
    reader = StrictReader()
    reader.feed(host.raw(b"AT+CMGL=4\r"))
    entries, final = reader.reply()
    assert final == "OK"
    assert sorted(entry.body for entry in entries) == sorted(expected)
    indices = [int(entry.header.split(",")[0]) for entry in entries]
    for index, entry in zip(indices, entries, strict=True):
        reader.feed(host.raw(f"AT+CMGR={index}\r".encode()))
        (read,), final = reader.reply()
        assert final == "OK"
        assert read.body == entry.body
        pdu.decode(read.body)  # every PDU line is a whole, decodable PDU


def test_strict_reader_rejects_a_blank_line_between_header_and_pdu() -> None:
    reader = StrictReader()
    reader.feed(b"\r\n+CMGR: 0,,23\r\n\r\n07913366003041F5\r\n\r\nOK\r\n")
    with pytest.raises(StrictReadError, match="invalid first byte"):
        reader.reply()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("profile", ["sim800", "huawei"])
async def test_strict_reader_over_the_pty(tmp_path: Path, profile: str) -> None:
    options = DeviceOptions(noise_interval=0, boot_scale=0.1)
    async with EmulatedModem(profile, tmp_path / "modem", options=options) as modem:
        await modem.wait_ready()
        sent = [*await modem.deliver("+40721000000", "over the pty")]
        sent += await modem.deliver("+40721000001", "Ω" * 100)  # 2 UCS-2 parts
        client = RawClient(modem.link)
        try:
            await client.read_for(0.2)
            await client.command("ATE0")
            await client.command("AT+CMEE=1")
            reader = StrictReader()
            reader.feed(await client.command("AT+CMGL=4"))
            entries, final = reader.reply()
            assert final == "OK"
            assert sorted(entry.body for entry in entries) == sorted(sent)
        finally:
            client.close()
