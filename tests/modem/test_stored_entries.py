"""Reading stored entries does not depend on how the firmware frames the PDU line.

Real modems put the PDU on the line right after the ``+CMGR``/``+CMGL`` header; some send an
empty line between the two, and so did the emulator once. Both must read the same entry.
"""

from __future__ import annotations

import datetime

import pytest

from smsgw import pdu
from smsgw.at.channel import AtChannel
from smsgw.modem.base import Modem
from smsgw.modem.entries import StoredEntries
from tests.at.fakes import ScriptedModem

pytestmark = [pytest.mark.timeout(10)]

SCTS = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.UTC)
FIRST = pdu.encode_deliver("+40721000001", "first", SCTS)[0]
SECOND = pdu.encode_deliver("+40721000002", "second", SCTS)[0]
SEPARATORS = {"adjacent": "\r\n", "blank line between": "\r\n\r\n"}


@pytest.fixture
def fake() -> ScriptedModem:
    return ScriptedModem(echo=False)


async def _entries(fake: ScriptedModem) -> tuple[AtChannel, StoredEntries]:
    channel = AtChannel(fake.line.host)
    channel.start()
    modem = Modem(channel)
    modem.storage = "SM"
    return channel, StoredEntries(modem)


@pytest.mark.parametrize("separator", SEPARATORS.values(), ids=SEPARATORS.keys())
async def test_cmgr_reads_the_pdu_with_or_without_a_blank_line(
    fake: ScriptedModem, separator: str
) -> None:
    header = f"+CMGR: 0,,{FIRST.tpdu_length}"
    fake.replies["AT+CMGR=3"] = f"\r\n{header}{separator}{FIRST.hex}\r\n\r\nOK\r\n".encode()
    channel, entries = await _entries(fake)
    try:
        entry = await entries.read(3)
    finally:
        await channel.close()
    assert (entry.storage, entry.index, entry.stat, entry.pdu_hex) == ("SM", 3, 0, FIRST.hex)
    assert isinstance(entry.message, pdu.Deliver)
    assert entry.message.text == "first"


@pytest.mark.parametrize("separator", SEPARATORS.values(), ids=SEPARATORS.keys())
async def test_cmgl_lists_every_pdu_with_or_without_blank_lines(
    fake: ScriptedModem, separator: str
) -> None:
    listing = "".join(
        f"\r\n+CMGL: {index},1,,{part.tpdu_length}{separator}{part.hex}"
        for index, part in ((1, FIRST), (4, SECOND))
    )
    fake.replies["AT+CMGL=4"] = f"{listing}\r\n\r\nOK\r\n".encode()
    channel, entries = await _entries(fake)
    try:
        listed = await entries.list_all()
    finally:
        await channel.close()
    assert [(e.index, e.pdu_hex) for e in listed] == [(1, FIRST.hex), (4, SECOND.hex)]
    assert [e.message.text for e in listed if isinstance(e.message, pdu.Deliver)] == [
        "first",
        "second",
    ]
