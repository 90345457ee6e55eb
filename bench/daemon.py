"""The real daemon's figures: `smsgw run` as a subprocess, emulators on real ptys,
a real webhook server on 127.0.0.1, real SQLite (WAL, synchronous=FULL) on this disk.

Phases, all in one run (one daemon per phase group, medians of repeated measurements):

1. start-to-ready (exec -> first 200 from /health/ready), RSS after start, idle CPU and AT
   commands per minute over a quiet interval;
2. inbound latency: +CMTI written to the pty -> the webhook POST arrives, one message at a
   time; python-gsmmodem-new's bare callback on its own emulator in the same run;
3. reply latency: the webhook answers `sms_text` -> `AT+CMGS` arrives at the emulator;
4. bursts of 1,000 messages stored on the SIM at once (1,000 +CMTI) -> all at the webhook,
   repeated to 10,000 messages: msgs/s (median burst), CPU s per 1,000, RSS after; then the
   first API request (it loads FastAPI and the inbox) and the RSS with the web stack loaded;
5. the same burst with the emulator pacing its output at 115,200 baud, against the serial
   line's bound computed from the bytes the modem wrote per message;
6. outgoing: API sends with a 1 s AT+CMGS delay on 1, 2 and 4 modems (bench.outgoing).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import baseline_gsmmodem, outgoing
from bench.common import Result
from bench.scale import QUICK, count, seconds
from smsgw.emulator import EmulatedModem
from tests.faults.rig import Daemon, Wire, emulated_modems, roomy_sim800, until, write_config
from tests.webhook.http_server import Answer, Received, WebhookServer

SINGLE = count(500, 40)
REPLIES = count(200, 20)
BURST = count(1000, 200)
BURSTS = count(10, 2)
IDLE_S = seconds(60.0, 5.0)
RESTARTS = count(5, 2)
SERIAL_BYTES_PER_S = 115_200 / 10  # 8N1: ten bits on the wire per byte


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class Webhook:
    """The receiving application: records incoming_sms POSTs, answers `reply ...` texts."""

    def __init__(self) -> None:
        self.incoming: list[Received] = []
        self.answered: dict[str, float] = {}
        self.server = WebhookServer(self._respond)

    def _respond(self, request: Received) -> Answer:
        body = json.loads(request.body)
        if body.get("type") != "incoming_sms":
            return Answer()
        self.incoming.append(request)
        text = str(body["message"])
        if text.startswith("reply"):
            self.answered[text] = time.monotonic()
            return Answer.json({"sms_text": f"re: {text}"})
        return Answer()


async def _inbound_latencies(
    webhook: Webhook, emulator_wire: tuple[EmulatedModem, Wire]
) -> list[float]:
    emulator, wire = emulator_wire
    latencies = []
    for n in range(SINGLE):
        seen, urcs = len(webhook.incoming), len(wire.cmti)
        await emulator.deliver("+40721000001", f"single {n}")
        await until(lambda seen=seen: len(webhook.incoming) > seen, within=10)
        latencies.append((webhook.incoming[seen].started - wire.cmti[urcs]) * 1000)
        await asyncio.sleep(0.02)  # let the delete finish: one message at a time
    return latencies


async def _reply_latencies(
    webhook: Webhook, emulator_wire: tuple[EmulatedModem, Wire]
) -> list[float]:
    emulator, wire = emulator_wire
    latencies = []
    for n in range(REPLIES):
        sent = len(wire.cmgs)
        text = f"reply {n}"
        # A new peer each time: limits.replies_per_peer_per_hour (30) would suppress the rest.
        await emulator.deliver(f"+4072101{n:04d}", text)
        await until(lambda sent=sent: len(wire.cmgs) > sent, within=10)
        latencies.append((wire.cmgs[sent] - webhook.answered[text]) * 1000)
        await asyncio.sleep(0.05)  # the send completes (cmgs_delay 0) before the next one
    return latencies


async def _burst(webhook: Webhook, emulator: EmulatedModem, messages: int, tag: str) -> float:
    """Store `messages` SMS on the SIM at once (one +CMTI each); seconds until all POSTed."""
    base = len(webhook.incoming)
    started = time.monotonic()
    for n in range(messages):
        await emulator.deliver(f"+4072200{n % 50:04d}", f"{tag} {n}")
    await until(lambda: len(webhook.incoming) >= base + messages, within=300, interval=0.01)
    return time.monotonic() - started


async def _first_api_request_ms(daemon: Daemon) -> float:
    """Health probes never load FastAPI and the inbox (smsgw.webfront); the first API call
    does, and waits for it. Its answer (401: no key sent) does not matter here."""
    async with httpx.AsyncClient(timeout=30) as client:
        started = time.monotonic()
        await client.get(daemon.base + "/api/v1/modems")
        return (time.monotonic() - started) * 1000


async def _migrate_like_the_unit(daemon: Daemon) -> None:
    """systemd/smsgw.service runs `smsgw db upgrade` (ExecStartPre) before `smsgw run`, so the
    daemon whose RSS is measured finds the schema at head, as in production."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smsgw", "db", "upgrade", "--config", str(daemon.config),
        env={**os.environ, "SMSGW_STATE_DIR": str(daemon.config.parent / "state")},
    )  # fmt: skip
    assert await process.wait() == 0, "smsgw db upgrade failed"


async def _unpaced(directory: Path) -> list[Result]:
    webhook = Webhook()
    with webhook.server:
        async with emulated_modems(directory, ["sim0"], profile=roomy_sim800()) as modems:
            emulator, wire = modems["sim0"]
            config = write_config(
                directory, webhook_url=webhook.server.url, modems={"sim0": emulator.link}
            )
            daemon = Daemon(config, directory / "daemon.log")
            await _migrate_like_the_unit(daemon)
            ready = [await daemon.start()]
            try:
                await asyncio.sleep(3.0)  # the first sweep and modem-info queries settle
                rss_start = daemon.rss_mb()
                cpu, commands = daemon.cpu_seconds(), wire.commands
                await asyncio.sleep(IDLE_S)
                idle_cpu = (daemon.cpu_seconds() - cpu) / IDLE_S * 100
                idle_commands = (wire.commands - commands) * 60 / IDLE_S

                inbound = await _inbound_latencies(webhook, modems["sim0"])
                replies = await _reply_latencies(webhook, modems["sim0"])

                rates, cpu_per_1000 = [], []
                rss_first_burst = rss_start
                for b in range(BURSTS):
                    cpu = daemon.cpu_seconds()
                    elapsed = await _burst(webhook, emulator, BURST, f"burst{b}")
                    rates.append(BURST / elapsed)
                    cpu_per_1000.append((daemon.cpu_seconds() - cpu) * 1000 / BURST)
                    if b == 0:  # caches and allocator pools are warm from here on
                        rss_first_burst = daemon.rss_mb()
                await asyncio.sleep(2.0)  # settle, then the steady-state RSS
                rss_after = daemon.rss_mb()
                handled = len(webhook.incoming)
                first_api_ms = await _first_api_request_ms(daemon)
                await asyncio.sleep(1.0)
                rss_web = daemon.rss_mb()
                assert await daemon.stop() == 0, daemon.tail()
                for _ in range(RESTARTS):  # start-to-ready again, now with a full database
                    ready.append(await daemon.start())
                    assert await daemon.stop() == 0, daemon.tail()
            finally:
                await daemon.kill()
    baseline = await baseline_gsmmodem.callback_latencies_ms(directory / "baseline", SINGLE)
    ours, theirs = statistics.median(inbound), statistics.median(baseline)
    return [
        Result("daemon start-to-ready (median)", statistics.median(ready) * 1000, "ms",
               "< 2000 ms", {"runs_ms": [round(r * 1000) for r in ready]}),
        Result("daemon RSS after start", rss_start, "MB", "<= 70 MB"),
        Result(f"daemon RSS after {handled:,} messages", rss_after, "MB",
               "growth <= 5 MB", {"growth_mb": round(rss_after - rss_start, 2)}),
        Result(f"daemon RSS growth after the first burst (next {(BURSTS - 1) * BURST:,} msgs)",
               rss_after - rss_first_burst, "MB", "~0 (no leak)",
               {"rss_after_first_burst_mb": round(rss_first_burst, 2)}),
        Result("daemon first API request (loads the web stack)", first_api_ms, "ms",
               "< 2000 ms"),
        Result("daemon RSS once the web stack is loaded", rss_web, "MB", "",
               {"web_stack_mb": round(rss_web - rss_after, 2)}),
        Result("daemon idle CPU", idle_cpu, "%", "< 0.5 %", {"over_s": IDLE_S}),
        Result("daemon AT commands per idle minute", idle_commands, "cmd/min", "",
               {"over_s": IDLE_S}),
        Result("inbound +CMTI -> webhook POST p50", ours, "ms", "<= 10 ms",
               {"messages": SINGLE}),
        Result("inbound +CMTI -> webhook POST p90", percentile(inbound, 90), "ms", ""),
        Result("inbound +CMTI -> webhook POST p99", percentile(inbound, 99), "ms", "<= 50 ms"),
        Result("python-gsmmodem-new bare callback p50 (same emulator)", theirs, "ms",
               "reference (no storage, no HTTP)", {"messages": SINGLE,
               "p99": percentile(baseline, 99)}),
        Result("inbound p50 ratio to python-gsmmodem-new callback", ours / theirs, "x",
               "lower is better"),
        Result("reply: webhook answer -> AT+CMGS p50", statistics.median(replies), "ms",
               "<= 10 ms", {"messages": REPLIES}),
        Result("reply: webhook answer -> AT+CMGS p99", percentile(replies, 99), "ms", ""),
        Result(f"burst {BURST:,} on SIM -> webhook, unpaced (median of {BURSTS})",
               statistics.median(rates), "msg/s", ">= 300 msg/s",
               {"bursts": [round(r, 1) for r in rates]}),
        Result("daemon CPU per 1,000 incoming messages", statistics.median(cpu_per_1000),
               "s", "", {"bursts": [round(c, 3) for c in cpu_per_1000]}),
    ]  # fmt: skip


async def _paced(directory: Path) -> list[Result]:
    webhook = Webhook()
    messages = count(1000, 200)
    with webhook.server:
        async with emulated_modems(
            directory, ["sim0"], profile=roomy_sim800(), baud=115_200
        ) as modems:
            emulator, wire = modems["sim0"]
            config = write_config(
                directory, webhook_url=webhook.server.url, modems={"sim0": emulator.link}
            )
            daemon = Daemon(config, directory / "daemon.log")
            await daemon.start()
            try:
                await asyncio.sleep(3.0)
                tx, rx = wire.tx_bytes, wire.rx_bytes
                elapsed = await _burst(webhook, emulator, messages, "paced")
                modem_bytes = (wire.tx_bytes - tx) / messages
                host_bytes = (wire.rx_bytes - rx) / messages
                assert await daemon.stop() == 0, daemon.tail()
            finally:
                await daemon.kill()
    rate = messages / elapsed
    bound = SERIAL_BYTES_PER_S / modem_bytes
    print(
        f"115,200 baud: {modem_bytes:.1f} B/message modem->host (+CMTI, +CMGR reply, OKs), "
        f"{host_bytes:.1f} B host->modem; bound {SERIAL_BYTES_PER_S:,.0f} B/s / "
        f"{modem_bytes:.1f} B = {bound:.1f} msg/s; measured {rate:.1f} msg/s"
    )
    return [
        Result("burst at 115,200 baud", rate, "msg/s", "", {"messages": messages}),
        Result("serial-line bound at 115,200 baud", bound, "msg/s",
               "11,520 B/s / bytes per message",
               {"modem_to_host_bytes_per_message": round(modem_bytes, 1),
                "host_to_modem_bytes_per_message": round(host_bytes, 1)}),
        Result("burst at 115,200 baud / serial bound", rate / bound, "ratio", ">= 0.85"),
    ]  # fmt: skip


async def _measure(directory: Path) -> list[Result]:
    results = await _unpaced(directory / "unpaced")
    results += await _paced(directory / "paced")
    results += await outgoing.measure(directory / "outgoing")
    if QUICK:
        results = [
            Result(r.name + " [QUICK]", r.value, r.unit, r.target, r.detail) for r in results
        ]
    return results


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for name in (
            "unpaced",
            "paced",
            "outgoing/modems1",
            "outgoing/modems2",
            "outgoing/modems4",
        ):
            (root / name).mkdir(parents=True)
        return asyncio.run(_measure(root))
