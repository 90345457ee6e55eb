"""+CMTI -> webhook POST of the real daemon, stage by stage, on two modems, beside the floor.

One run, one message at a time, the daemon (`smsgw run`, its own process, SQLite WAL with
synchronous=FULL) and a loopback webhook server:

1. on the emulator (``smsgw.emulator`` on a pty, timestamps from its wire tap);
2. on :mod:`bench.pty_modem`, a minimal independent pty modem (its own timestamps);
3. python-gsmmodem-new's bare ``smsReceivedCallbackFunc`` on that same independent modem
   (it reads with ``AT+CMGR`` first; no storage, no HTTP): the floor;
4. smsgw's own modem layer alone on that modem, in this process, with a sink that only
   notes the time (no storage, no HTTP): the same floor for our driver, and what the
   ``InboundReader`` itself adds between the PDU and ``AT+CMGD``.

The timeline of each message, from the modem's side of the line (one monotonic clock for
every process): ``+CMTI`` written -> ``AT+CMGR`` arrives (the driver reacts) -> the PDU is
written (the modem answers) -> ``AT+CMGD`` arrives (decoded and durably committed: the
delete is sent only once the commit returned) -> the webhook has read the POST. The last
stage, commit -> POST, is the outbox wake-up and the HTTP request; it may be negative when
the POST overtakes the delete on the line.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import Result
from bench.daemon import Webhook, percentile
from bench.pty_modem import PtyModem, Timeline
from bench.scale import QUICK, count
from smsgw.modem import (
    MessageReceived,
    ModemEvent,
    ModemSupervisor,
    SupervisorSettings,
    serial_opener,
)
from tests.faults.rig import Daemon, emulated_modems, until, write_config

MESSAGES = count(500, 40)
STAGES = ("react", "answer", "commit", "post")
STAGE_NAMES = {
    "react": "+CMTI -> AT+CMGR",
    "answer": "AT+CMGR -> PDU written",
    "commit": "PDU -> AT+CMGD (decode + durable commit)",
    "post": "AT+CMGD -> POST (outbox wake-up + HTTP)",
}


@dataclass
class EmulatorTimelines:
    """A wire tap that rebuilds a `Timeline` per message from the emulator's pty traffic."""

    timelines: list[Timeline] = field(default_factory=list)

    def tap(self, direction: str, data: bytes, at: float) -> None:
        if direction == "tx":
            if b"+CMTI:" in data:
                self.timelines.append(Timeline(cmti=at))
            if b"+CMGR:" in data and self.timelines and self.timelines[-1].reply is None:
                self.timelines[-1].reply = at
        elif self.timelines:
            current = self.timelines[-1]
            if b"AT+CMGR" in data.upper() and current.cmgr is None:
                current.cmgr = at
            if b"AT+CMGD" in data.upper() and current.cmgd is None:
                current.cmgd = at


def _stages(timeline: Timeline, posted: float) -> dict[str, float]:
    assert timeline.cmgr is not None, timeline
    assert timeline.reply is not None, timeline
    assert timeline.cmgd is not None, timeline
    return {
        "total": (posted - timeline.cmti) * 1000,
        "react": (timeline.cmgr - timeline.cmti) * 1000,
        "answer": (timeline.reply - timeline.cmgr) * 1000,
        "commit": (timeline.cmgd - timeline.reply) * 1000,
        "post": (posted - timeline.cmgd) * 1000,
    }


async def _one_at_a_time(
    webhook: Webhook, deliver: Callable[[int], Any], timelines: list[Timeline]
) -> list[dict[str, float]]:
    measured = []
    for n in range(MESSAGES):
        seen = len(webhook.incoming)
        result = deliver(n)
        if asyncio.iscoroutine(result):
            await result
        await until(lambda seen=seen: len(webhook.incoming) > seen, within=10)
        await until(lambda: timelines[-1].cmgd is not None, within=10)  # deleted: settled
        measured.append(_stages(timelines[-1], webhook.incoming[seen].started))
        await asyncio.sleep(0.02)
    return measured


async def _daemon_on(directory: Path, webhook: Webhook, port: Path) -> Daemon:
    config = write_config(directory, webhook_url=webhook.server.url, modems={"m": port})
    daemon = Daemon(config, directory / "daemon.log")
    await daemon.start()
    await asyncio.sleep(2.0)  # the first sweep and modem-info queries settle
    return daemon


async def _on_emulator(directory: Path) -> list[dict[str, float]]:
    webhook = Webhook()
    with webhook.server:
        async with emulated_modems(directory, ["sim0"]) as modems:
            emulator, _ = modems["sim0"]
            tap = EmulatorTimelines()
            emulator.add_wire_tap(tap.tap)
            daemon = await _daemon_on(directory, webhook, emulator.link)
            try:
                return await _one_at_a_time(
                    webhook,
                    lambda n: emulator.deliver("+40721000001", f"emulated {n}"),
                    tap.timelines,
                )
            finally:
                await daemon.stop()
                await daemon.kill()


async def _on_pty_modem(directory: Path) -> list[dict[str, float]]:
    webhook = Webhook()
    with webhook.server:
        async with PtyModem() as modem:
            daemon = await _daemon_on(directory, webhook, Path(modem.port))
            try:
                return await _one_at_a_time(
                    webhook,
                    lambda n: modem.deliver("+40721000001", f"independent {n}"),
                    modem.timelines,
                )
            finally:
                await daemon.stop()
                await daemon.kill()


async def _gsmmodem_on_pty_modem() -> list[float]:
    """+CMTI written -> python-gsmmodem-new's callback, in ms, one message at a time."""
    from gsmmodem.modem import GsmModem  # the test extra; imported only for this figure

    called: list[float] = []
    arrived = threading.Event()

    def on_sms(_sms: Any) -> None:
        called.append(time.monotonic())
        arrived.set()

    async with PtyModem() as modem:
        client = GsmModem(modem.port, 115200, smsReceivedCallbackFunc=on_sms)
        await asyncio.to_thread(client.connect)
        try:
            latencies = []
            for n in range(MESSAGES):
                arrived.clear()
                modem.deliver("+40721000000", f"baseline {n}")
                assert await asyncio.to_thread(arrived.wait, 10), "no callback"
                latencies.append((called[n] - modem.timelines[n].cmti) * 1000)
                await asyncio.sleep(0.02)  # it deletes the entry after the callback
        finally:
            await asyncio.to_thread(client.close)
    return latencies


async def _modem_layer_on_pty_modem() -> tuple[list[float], list[float]]:
    """+CMTI written -> our sink called, and PDU written -> AT+CMGD arrives, in ms: smsgw's
    modem layer with a sink that stores nothing (the comparison with python-gsmmodem-new)."""
    called: list[float] = []

    async def sink(event: ModemEvent) -> None:
        if isinstance(event, MessageReceived):
            called.append(time.monotonic())

    async with PtyModem() as modem:
        supervisor = ModemSupervisor(
            serial_opener(modem.port), modem_id="bare", sink=sink,
            settings=SupervisorSettings(sweep_interval=3600, health_interval=3600),
        )  # fmt: skip
        supervisor.start()
        try:
            async with asyncio.timeout(10):
                await supervisor.wait_ready()
            to_sink, to_delete = [], []
            for n in range(MESSAGES):
                modem.deliver("+40721000000", f"bare {n}")
                await until(lambda n=n: len(called) > n and modem.timelines[n].cmgd is not None)
                timeline = modem.timelines[n]
                assert timeline.reply is not None
                assert timeline.cmgd is not None
                to_sink.append((called[n] - timeline.cmti) * 1000)
                to_delete.append((timeline.cmgd - timeline.reply) * 1000)
                await asyncio.sleep(0.02)
        finally:
            await supervisor.stop()
    return to_sink, to_delete


def _results(where: str, measured: list[dict[str, float]]) -> list[Result]:
    totals = [m["total"] for m in measured]
    stages = {s: round(statistics.median(m[s] for m in measured), 3) for s in STAGES}
    breakdown = {STAGE_NAMES[s]: v for s, v in stages.items()}
    return [
        Result(f"inbound +CMTI -> POST p50 ({where})", statistics.median(totals), "ms",
               "<= 4 ms", {"messages": len(totals), "stage_p50_ms": breakdown}),
        Result(f"inbound +CMTI -> POST p99 ({where})", percentile(totals, 99), "ms", "<= 10 ms",
               {"stage_p99_ms": {STAGE_NAMES[s]: round(percentile([m[s] for m in measured], 99),
                                                        3) for s in STAGES}}),
        *(Result(f"inbound stage p50 ({where}): {STAGE_NAMES[s]}", stages[s], "ms", "")
          for s in STAGES),
    ]  # fmt: skip


async def _measure(directory: Path) -> list[Result]:
    emulated = await _on_emulator(directory / "emulator")
    independent = await _on_pty_modem(directory / "pty")
    floor = await _gsmmodem_on_pty_modem()
    bare, bare_delete = await _modem_layer_on_pty_modem()
    ours = statistics.median(m["total"] for m in independent)
    results = [
        *_results("emulator", emulated),
        *_results("independent pty modem", independent),
        Result("python-gsmmodem-new bare callback p50 (independent pty modem)",
               statistics.median(floor), "ms", "reference (no storage, no HTTP)",
               {"messages": len(floor), "p99": round(percentile(floor, 99), 3)}),
        Result("inbound p50 / python-gsmmodem-new p50 (independent pty modem)",
               ours / statistics.median(floor), "x", "lower is better"),
        Result("smsgw modem layer bare sink p50 (independent pty modem)",
               statistics.median(bare), "ms", "reference (no storage, no HTTP)",
               {"messages": len(bare), "p99": round(percentile(bare, 99), 3)}),
        Result("smsgw modem layer, bare sink: PDU -> AT+CMGD p50 (independent pty modem)",
               statistics.median(bare_delete), "ms", "the InboundReader's own share",
               {"p99": round(percentile(bare_delete, 99), 3)}),
    ]  # fmt: skip
    if QUICK:
        results = [
            Result(r.name + " [QUICK]", r.value, r.unit, r.target, r.detail) for r in results
        ]
    return results


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for name in ("emulator", "pty"):
            (root / name).mkdir()
        return asyncio.run(_measure(root))
