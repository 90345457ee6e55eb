"""Tier 2: the whole modem layer against the emulator Device over an in-memory line.

Every scenario runs for both profiles; the core ones also over a line that delivers one
byte at a time and one that injects URCs mid-reply and before echoes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from smsgw import pdu
from smsgw.at.channel import AtChannel
from smsgw.at.memory import Faults
from smsgw.emulator.device import Device, DeviceOptions
from smsgw.emulator.storage import Stat, Storage
from smsgw.exceptions import ModemNotReady, SendFailed
from smsgw.modem.base import Modem, ModemSettings
from smsgw.modem.events import (
    MessageReceived,
    ModemState,
    RebootDetected,
    RegistrationChanged,
    StatusReportReceived,
    StoredSubmitFound,
)
from smsgw.modem.supervisor import ModemSupervisor, SupervisorSettings
from tests.at.fakes import ScriptedModem
from tests.modem.bridge import DeviceBridge
from tests.modem.helpers import Recorder, eventually

pytestmark = [pytest.mark.timeout(30)]

PROFILES = ["sim800", "huawei"]
FAST = SupervisorSettings(
    health_interval=0.5, sweep_interval=60, backoff_initial=0.05, backoff_max=0.3
)
LINES = {
    "clean": None,
    "byte-by-byte": Faults(chunk_size=1),
    "urc-noise": Faults(urcs=(b"^RSSI:18", b"RING", b"^MODE:5,4"), urc_rate=0.3, seed=11),
}


@dataclass
class Rig:
    bridge: DeviceBridge
    supervisor: ModemSupervisor
    events: Recorder


@contextlib.asynccontextmanager
async def open_rig(
    profile: str,
    faults: Faults | None = None,
    *,
    options: DeviceOptions | None = None,
    modem_settings: ModemSettings | None = None,
    settings: SupervisorSettings = FAST,
) -> AsyncIterator[Rig]:
    async with DeviceBridge(
        profile, faults=faults, options=options or DeviceOptions(boot_scale=0.1, report_delay=0.2)
    ) as bridge:
        events = Recorder()
        supervisor = ModemSupervisor(
            bridge.open,
            modem_id=profile,
            sink=events,
            modem_settings=modem_settings,
            settings=settings,
        )
        supervisor.start()
        try:
            yield Rig(bridge, supervisor, events)
        finally:
            await supervisor.stop()


@pytest.fixture(params=[(p, name) for p in PROFILES for name in LINES], ids=lambda v: "-".join(v))
async def rig(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    profile, line = request.param
    async with open_rig(profile, LINES[line]) as value:
        yield value


@pytest.fixture(params=PROFILES)
async def clean_rig(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    async with open_rig(request.param) as value:
        yield value


async def test_identify_init_receive_send_and_report(rig: Rig) -> None:
    modem = await _ready(rig)
    profile = rig.bridge.device.profile.name
    assert modem.dialect == profile
    assert modem.cnmi == ((2, 1, 0, 1, 0) if profile == "sim800" else (2, 1, 0, 2, 0))

    # receive through +CMTI: read + delete, exactly two commands
    before = sum(modem.channel.sent.values())
    rig.bridge.device.deliver("+40721000001", "Hello gateway")
    await eventually(lambda: len(rig.events.of(MessageReceived)) == 1)
    received = rig.events.of(MessageReceived)[0]
    assert received.message.text == "Hello gateway"
    assert received.message.number == "+40721000001"
    await eventually(lambda: rig.bridge.device.storage(modem.storage or "SM").used == 0)
    reads = [t for t in modem.channel.sent if t.startswith(("AT+CMGR", "AT+CMGD"))]
    assert len(reads) == 2
    assert sum(modem.channel.sent.values()) - before <= 3  # + at most one health check

    # send single, multipart and UCS-2; each part's TP-MR comes back
    single = await rig.supervisor.send_sms("+40722000002", "Hi there")
    multi = await rig.supervisor.send_sms("+40722000003", "x" * 200)
    ucs2 = await rig.supervisor.send_sms("+40722000004", "Привет 👋")
    assert (len(single), len(multi), len(ucs2)) == (1, 2, 1)
    sent = rig.bridge.device.sent
    assert [m.text for m in sent] == ["Hi there", "x" * 200, "Привет 👋"]
    assert [list(m.mrs) for m in sent] == [single, multi, ucs2]

    # delivery reports: +CDS on SIM800, +CDSI + read on Huawei
    await eventually(lambda: len(rig.events.of(StatusReportReceived)) == 4, within=10)
    reports = rig.events.of(StatusReportReceived)
    assert sorted(r.report.reference for r in reports) == sorted(single + multi + ucs2)
    assert all(r.report.outcome == "delivered" for r in reports)
    via_storage = [r.index is not None for r in reports]
    assert all(via_storage) if profile == "huawei" else not any(via_storage)


async def test_direct_cmt_and_cds_urcs_are_handled(clean_rig: Rig) -> None:
    modem = await _ready(clean_rig)
    scts = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.UTC)
    deliver = pdu.encode_deliver("+40721000009", "routed", scts)[0]
    clean_rig.bridge.device.faults.inject_urc(f'+CMT: "",{deliver.tpdu_length}\r\n{deliver.hex}')
    await eventually(lambda: len(clean_rig.events.of(MessageReceived)) == 1)
    event = clean_rig.events.of(MessageReceived)[0]
    assert (event.message.text, event.index) == ("routed", None)
    assert modem.channel.sent["AT+CNMA"] == 1  # acknowledged (the modem decides if needed)


async def test_urcs_inside_replies_and_before_echoes(clean_rig: Rig) -> None:
    modem = await _ready(clean_rig)
    device = clean_rig.bridge.device
    device.faults.inject_urc("RING", at="before_echo")
    device.faults.inject_urc("+CREG: 5", at="mid_reply")
    device.faults.inject_urc("^RSSI:12", at="mid_reply")
    signal = await modem.signal()
    assert signal.rssi >= 0
    await eventually(lambda: len(clean_rig.events.of(RegistrationChanged)) == 1)
    assert clean_rig.events.of(RegistrationChanged)[0].registration.roaming
    device.faults.inject_urc('+CMTI: "SM",99', at="mid_reply")  # stale index: nothing to read
    assert (await modem.operator()).name
    device.deliver("+40721000001", "still fine")
    await eventually(lambda: len(clean_rig.events.of(MessageReceived)) == 1)


async def test_multipart_and_ucs2_reception_with_zero_based_indexes() -> None:
    async with open_rig("huawei") as rig:
        await _ready(rig)
        text = "Ünïcödé " * 30
        rig.bridge.device.deliver("+40721000001", text)
        await eventually(lambda: len(rig.events.of(MessageReceived)) == 4)
        parts = rig.events.of(MessageReceived)
        assert 0 in {p.index for p in parts}
        ordered = sorted(parts, key=lambda p: p.message.concat.seq if p.message.concat else 0)
        assert pdu.join_texts(p.message.text or "" for p in ordered) == text


async def test_full_storage_is_drained_at_start_and_held_messages_arrive() -> None:
    options = DeviceOptions(boot_scale=0.1)
    async with DeviceBridge("sim800", options=options) as bridge:
        storage = bridge.device.storage("SM")
        sample = _sample_deliver()
        while not storage.is_full:
            storage.store(Stat.REC_UNREAD, sample)
        submit = pdu.encode_submit("+40722000000", "draft")[0].hex
        storage.delete(next(i for i, _ in storage.items()))
        storage.store(Stat.STO_UNSENT, submit)
        events = Recorder()
        supervisor = ModemSupervisor(bridge.open, sink=events, settings=FAST)
        supervisor.start()
        try:
            await _ready_supervisor(supervisor)
            bridge.device.deliver("+40721000005", "held at the SMSC")
            await eventually(lambda: len(events.of(MessageReceived)) == storage.capacity)
            assert events.of(MessageReceived)[-1].message.text == "held at the SMSC"
            assert len(events.of(StoredSubmitFound)) == 1
            assert storage.used == 1  # the SUBMIT stays
        finally:
            await supervisor.stop()


async def test_consumer_failure_leaves_the_message_in_storage(clean_rig: Rig) -> None:
    modem = await _ready(clean_rig)
    clean_rig.events.fail = True
    clean_rig.bridge.device.deliver("+40721000001", "keep me")
    storage = clean_rig.bridge.device.storage(modem.storage or "SM")
    await eventually(lambda: modem.channel.sent.get("AT+CMGR=" + str(_first_index(storage)), 0) > 0)
    assert storage.used == 1
    clean_rig.events.fail = False
    assert await modem.sweep() == 1
    assert [e.message.text for e in clean_rig.events.of(MessageReceived)] == ["keep me"]
    assert storage.used == 0


async def test_wrong_pin_fails_once_and_is_never_retried() -> None:
    options = DeviceOptions(boot_scale=0.1, pin="1234")
    async with open_rig("sim800", options=options, modem_settings=ModemSettings(pin="0000")) as rig:
        await eventually(lambda: rig.supervisor.state is ModemState.FAILED)
        assert "PIN" in rig.supervisor.reason
        with pytest.raises(ModemNotReady, match="failed"):
            await rig.supervisor.send_sms("+40722000002", "nope")
        await eventually(lambda: rig.bridge.opens >= 1)
        await asyncio.sleep(1.0)
        assert rig.supervisor.state is ModemState.FAILED
        assert rig.bridge.opens == 1


async def test_right_pin_unlocks() -> None:
    options = DeviceOptions(boot_scale=0.1, pin="1234")
    async with open_rig("huawei", options=options, modem_settings=ModemSettings(pin="1234")) as rig:
        await _ready(rig)


async def test_cms_error_on_send_is_reported_with_a_reason(clean_rig: Rig) -> None:
    await _ready(clean_rig)
    clean_rig.bridge.device.faults.fail_next_send(21)
    with pytest.raises(SendFailed) as failure:
        await clean_rig.supervisor.send_sms("+40722000002", "refused")
    assert failure.value.cms_code == 21
    assert "rejected" in str(failure.value)
    assert not failure.value.uncertain
    assert await clean_rig.supervisor.send_sms("+40722000002", "accepted")


async def test_unplug_while_idle_comes_back_by_itself(clean_rig: Rig) -> None:
    await _ready(clean_rig)
    clean_rig.bridge.unplug(for_s=1.0)
    await eventually(lambda: clean_rig.supervisor.state is not ModemState.READY, within=2)
    await _ready(clean_rig, within=10)
    assert clean_rig.bridge.opens >= 2
    assert await clean_rig.supervisor.send_sms("+40722000002", "back")


async def test_unplug_during_send_is_reported_never_silent() -> None:
    options = DeviceOptions(boot_scale=0.1, cmgs_delay=0.5)
    async with open_rig("sim800", options=options) as rig:
        await _ready(rig)
        sending = asyncio.create_task(rig.supervisor.send_sms("+40722000002", "in flight"))
        await asyncio.sleep(0.2)
        rig.bridge.unplug(for_s=1.0)
        with pytest.raises(SendFailed) as failure:
            await sending
        assert failure.value.uncertain
        assert failure.value.references == ()
        await _ready(rig, within=10)
        assert rig.bridge.device.sent == []  # not delivered behind our back


async def test_reboot_mid_session_is_reinitialised(clean_rig: Rig) -> None:
    modem = await _ready(clean_rig)
    clean_rig.bridge.device.reboot()
    await eventually(lambda: len(clean_rig.events.of(RebootDetected)) == 1, within=5)
    again = await _ready(clean_rig, within=10)
    assert again is not modem
    clean_rig.bridge.device.deliver("+40721000001", "after reboot")
    await eventually(lambda: len(clean_rig.events.of(MessageReceived)) == 1)
    assert clean_rig.bridge.opens == 1  # same port, no reopen


# ---------------------------------------------------------------------------- helpers
async def _ready(rig: Rig, within: float = 10.0) -> Modem:
    return await _ready_supervisor(rig.supervisor, within)


async def _ready_supervisor(supervisor: ModemSupervisor, within: float = 10.0) -> Modem:
    async with asyncio.timeout(within):
        return await supervisor.wait_ready()


def _sample_deliver() -> str:
    scts = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.UTC)
    return pdu.encode_deliver("+40721000000", "stored earlier", scts)[0].hex


def _first_index(storage: Storage) -> int:
    items = list(storage.items())
    return items[0][0] if items else -1


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("own_number", ["+40721999000", None])
async def test_the_sims_own_number_is_read_at_initialisation(
    profile: str, own_number: str | None
) -> None:
    options = DeviceOptions(boot_scale=0.1, own_number=own_number)
    async with open_rig(profile, options=options) as rig:
        modem = await _ready(rig)
        assert modem.own_number == own_number
        assert rig.supervisor.own_number == own_number
        assert (await modem.info()).own_number == own_number


@pytest.mark.parametrize(
    "answer",
    [b"\r\nERROR\r\n", b"\r\n+CME ERROR: 4\r\n", b'\r\n+CNUM: "","who knows",145\r\n\r\nOK\r\n'],
)
async def test_a_firmware_without_a_usable_cnum_gives_no_number(answer: bytes) -> None:
    fake = ScriptedModem()
    fake.replies["AT+CNUM"] = answer
    channel = AtChannel(fake.line.host)
    channel.start()
    try:
        assert await Modem(channel).read_own_number() is None
        assert fake.commands == ["AT+CNUM"]
    finally:
        await channel.close()


@pytest.mark.parametrize("profile", PROFILES)
async def test_refreshing_info_asks_only_what_changes(profile: str) -> None:
    async with open_rig(profile, options=DeviceOptions(boot_scale=0.1)) as rig:
        modem = await _ready(rig)
        first = await modem.info()
        written: list[bytes] = []
        feed = rig.bridge.device.feed

        def record(data: bytes) -> None:
            written.append(data)
            feed(data)

        rig.bridge.device.feed = record  # type: ignore[method-assign]
        refreshed = await modem.refresh_info(first)
        # The supervisor's health check (AT+CNMI?) may run in between; it is not ours.
        lines = [line for line in b"".join(written).upper().split(b"\r") if line]
        ours = [line for line in lines if line != b"AT+CNMI?"]
        asked = sorted(line.split(b"=")[0].split(b"?")[0].decode() for line in ours)
        assert asked == ["AT+COPS", "AT+CPIN", "AT+CPMS", "AT+CREG", "AT+CSQ"]
        assert refreshed.signal_dbm is not None
        assert refreshed.storage
        static = ("identity", "storage_support", "cnmi_support", "service_center", "own_number")
        assert all(getattr(refreshed, name) == getattr(first, name) for name in static)


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_prompt_left_open_by_a_killed_process_is_closed_at_probe(profile: str) -> None:
    """kill -9 between AT+CMGS and its PDU leaves the modem in the `> ` prompt; the next
    process's probe must get it back to command mode (it found no answer to AT for ever)."""
    async with open_rig(profile) as rig:
        await _ready(rig)
        await rig.supervisor.stop()  # the process dies...
        rig.bridge.device.advance(rig.bridge.now())
        rig.bridge.device.feed(b"AT+CMGS=20\r")  # ...after asking to send, before the PDU
        assert _in_prompt(rig.bridge.device)
        supervisor = ModemSupervisor(
            rig.bridge.open, modem_id=profile, sink=Recorder(), settings=FAST
        )
        supervisor.start()
        try:
            modem = await _ready_supervisor(supervisor, within=15)
            assert not _in_prompt(rig.bridge.device)
            assert modem.dialect == profile
            assert rig.bridge.device.sent == []  # aborted, not sent
        finally:
            await supervisor.stop()


def _in_prompt(device: Device) -> bool:
    return device.prompt is not None
