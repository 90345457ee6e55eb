"""`AT+CSDH=1` in text mode: the long 27.005 headers, as gammu's at-sms-txt-detail dumps
show them (`sample2.dump` and `unsent.dump` are reproduced below with their own values)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from smsgw import pdu
from smsgw.emulator.storage import Stat
from tests.emulator.host import Host, boot

HONG_KONG = datetime.timezone(datetime.timedelta(hours=8))
SAMPLE_TEXT = "It is easy to read text messages via AT commands."
SAMPLE2_HEADER = (
    '+CMGR: "REC READ","+85291234567",,"07/02/18,00:05:10+32",145,4,0,0,"+85290000000",145,49'
)


def _sample_deliver() -> str:
    scts = datetime.datetime(2007, 2, 18, 0, 5, 10, tzinfo=HONG_KONG)
    return pdu.encode_deliver("+85291234567", SAMPLE_TEXT, scts, smsc="+85290000000")[0].hex


def _unsent_submit() -> str:
    part = pdu.encode_submit(
        "+10011", "Hello World", smsc="+8613800100500", validity=datetime.timedelta(hours=24)
    )[0]
    return part.hex


def _text_host(profile: str, csdh: int) -> Host:
    host = boot(profile)
    host.at("ATE0")
    host.at("AT+CMGF=1")
    assert host.lines(f"AT+CSDH={csdh}") == ["OK"]
    return host


def test_cmgr_long_header_of_a_deliver() -> None:
    host = _text_host("huawei", 1)
    index = host.device.storage("SM").store(Stat.REC_READ, _sample_deliver())
    assert host.raw(f"AT+CMGR={index}\r".encode()) == (
        f"\r\n{SAMPLE2_HEADER}\r\n{SAMPLE_TEXT}\r\n\r\nOK\r\n".encode()
    )


def test_cmgr_long_header_of_a_stored_submit() -> None:
    host = _text_host("huawei", 1)
    index = host.device.storage("SM").store(Stat.STO_UNSENT, _unsent_submit())
    assert host.raw(f"AT+CMGR={index}\r".encode()) == (
        b'\r\n+CMGR: "STO UNSENT","+10011",,145,17,0,0,167,"+8613800100500",145,11\r\n'
        b"Hello World\r\n\r\nOK\r\n"
    )


def test_cmgl_long_header_adds_type_and_length() -> None:
    host = _text_host("sim800", 1)
    index = host.device.storage("SM").store(Stat.REC_UNREAD, _sample_deliver())
    assert (
        host.raw(b'AT+CMGL="ALL"\r')
        == (
            f'\r\n+CMGL: {index},"REC UNREAD","+85291234567","","07/02/18,00:05:10+32",145,49\r\n'
            f"{SAMPLE_TEXT}\r\n\r\nOK\r\n"
        ).encode()
    )


def test_cmt_long_header() -> None:
    host = _text_host("sim800", 1)
    host.at("AT+CNMI=2,2,0,0,0")
    host.device.deliver_pdu(_sample_deliver())
    assert (
        host.device.read_output()
        == (
            '\r\n+CMT: "+85291234567","","07/02/18,00:05:10+32",145,4,0,0,"+85290000000",145,49\r\n'
            f"{SAMPLE_TEXT}\r\n"
        ).encode()
    )


def test_csdh_0_is_the_short_header_again() -> None:
    host = _text_host("huawei", 1)
    host.at("AT+CSDH=0")
    index = host.device.storage("SM").store(Stat.REC_READ, _sample_deliver())
    assert host.lines(f"AT+CMGR={index}")[0] == (
        '+CMGR: "REC READ","+85291234567",,"07/02/18,00:05:10+32"'
    )
    assert host.lines("AT+CSDH?") == ["+CSDH: 0", "OK"]


@pytest.mark.parametrize(("dump", "stored"), [("sample2", "deliver"), ("unsent", "submit")])
def test_matches_gammu_detail_dumps(corpus_dir: Path, dump: str, stored: str) -> None:
    """Every field but the last: unsent.dump's `<length>` (4 for "Hello World") is one of
    the hand-edited values the corpus README warns about."""
    _command, header, text, *_ = (
        (corpus_dir / "gammu" / "at-sms-txt-detail" / f"{dump}.dump").read_text().splitlines()
    )
    host = _text_host("huawei", 1)
    pdu_hex, stat = (
        (_sample_deliver(), Stat.REC_READ)
        if stored == "deliver"
        else (_unsent_submit(), Stat.STO_UNSENT)
    )
    index = host.device.storage("SM").store(stat, pdu_hex)
    ours_header, ours_text, ok = host.lines(f"AT+CMGR={index}")
    assert ours_header.rsplit(",", 1)[0] == header.rsplit(",", 1)[0]
    assert (ours_text, ok) == (text, "OK")
