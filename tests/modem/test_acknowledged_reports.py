"""Status reports routed as `+CDS` (SIM800, ds=1) are acknowledged only once consumed.

With `AT+CSMS=1` the modem holds each routed report until `AT+CNMA`; the modem layer sends it
only after the sink returned (the gateway has committed the report). A report routed while
smsgw is down, or while its sink fails, is refused to the network and offered again later
(27.005 §3.4.4) instead of being lost. A firmware that refuses `AT+CSMS=1` keeps the old
behaviour (the modem acknowledges by itself).
"""

from __future__ import annotations

import asyncio

import pytest

from smsgw.at.channel import AtChannel
from smsgw.emulator.device import DeviceOptions
from smsgw.modem.events import ModemEvent, StatusReportReceived
from smsgw.modem.sim800 import Sim800Modem
from smsgw.modem.supervisor import ModemSupervisor, SupervisorSettings
from tests.at.fakes import ScriptedModem
from tests.modem.bridge import DeviceBridge
from tests.modem.helpers import Recorder, eventually

pytestmark = [pytest.mark.timeout(30)]

SETTINGS = SupervisorSettings(
    health_interval=0.3, sweep_interval=60, backoff_initial=0.05, backoff_max=0.3
)
#: Report 1 s after the send; unacknowledged routed PDUs go back to the network after 0.5 s
#: and come again 3 s later (by then the restarted supervisor has set routing again).
OPTIONS = DeviceOptions(
    boot_scale=0.1, report_delay=1.0, cnma_timeout=0.5, network_retry=3.0, noise_interval=0
)


class FailingOnce(Recorder):
    """A sink whose first status report fails (the database was briefly unreachable)."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    async def __call__(self, event: ModemEvent) -> None:
        if isinstance(event, StatusReportReceived) and self.failures == 0:
            self.failures += 1
            raise RuntimeError("database unreachable")
        await super().__call__(event)


async def test_a_report_routed_while_smsgw_is_down_comes_again_after_restart() -> None:
    async with DeviceBridge("sim800", options=OPTIONS) as bridge:
        before = ModemSupervisor(bridge.open, modem_id="sim800", settings=SETTINGS)
        before.start()
        try:
            async with asyncio.timeout(10):
                modem = await before.wait_ready()
            assert modem.acknowledges_routed
            [reference] = await before.send_sms("+40722000002", "report me", srr=True)
        finally:
            await before.stop()  # the daemon stops before the report arrives
        await asyncio.sleep(OPTIONS.report_delay + OPTIONS.cnma_timeout + 0.2)
        assert not bridge.device.awaiting_cnma  # routed into the void, then refused

        events = FailingOnce()
        after = ModemSupervisor(bridge.open, modem_id="sim800", sink=events, settings=SETTINGS)
        after.start()
        try:
            # Offered again: the first offer fails in the sink, so it is not acknowledged
            # and comes once more; the second is consumed and acknowledged.
            await eventually(lambda: len(events.of(StatusReportReceived)) == 1, within=15)
            assert events.failures == 1
            assert events.of(StatusReportReceived)[0].report.reference == reference
            await eventually(lambda: not bridge.device.awaiting_cnma)
            await asyncio.sleep(OPTIONS.cnma_timeout + OPTIONS.network_retry + 0.5)
            assert len(events.of(StatusReportReceived)) == 1  # acknowledged: never again
        finally:
            await after.stop()


@pytest.mark.parametrize(
    ("answer", "acknowledges"),
    [(b"\r\n+CSMS: 1,1,1\r\n\r\nOK\r\n", True), (b"\r\n+CMS ERROR: 303\r\n", False)],
)
async def test_csms_1_is_asked_before_routing_and_its_refusal_is_not_fatal(
    answer: bytes, acknowledges: bool
) -> None:
    fake = ScriptedModem(echo=False)
    fake.replies.update(
        {
            "AT+CNMI=?": b"\r\n+CNMI: (0-3),(0-3),(0,2),(0,1),(0,1)\r\n\r\nOK\r\n",
            "AT+CNMI=2,1,0,1,0": b"\r\nOK\r\n",
            "AT+CSMS=1": answer,
        }
    )
    channel = AtChannel(fake.line.host)
    channel.start()
    try:
        modem = Sim800Modem(channel)
        await modem.select_indications()
        assert modem.cnmi == (2, 1, 0, 1, 0)
        assert modem.acknowledges_routed is acknowledges
        assert fake.commands == ["AT+CNMI=?", "AT+CSMS=1", "AT+CNMI=2,1,0,1,0"]
    finally:
        await channel.close()
