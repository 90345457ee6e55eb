"""A real `smsgw run` under test: subprocess daemon, in-process emulators, loopback webhook.

Shared by the fault-injection suite (tests/faults) and the daemon benchmarks (bench/daemon).
The daemon is the real entry point (`python -m smsgw run --config FILE`) in its own process,
so its RSS and CPU are its own; the emulators run on real ptys in the caller's event loop
with a wire tap, so a test knows when the modem emitted `+CMTI` and when it received
`AT+CMGS`; the webhook is the stdlib HTTP server on 127.0.0.1 in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from smsgw.emulator import DeviceOptions, EmulatedModem
from smsgw.emulator.profiles import Profile, get_profile
from tests.ports import free_port

API_KEY = "faults-and-bench-key"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def write_config(
    directory: Path,
    *,
    webhook_url: str,
    modems: Mapping[str, Path],
    webhook: Mapping[str, str | float] | None = None,
    modem_extra: str = "",
    database: Path | None = None,
    node_extra: str = "",
) -> Path:
    """A TOML config for one node; `webhook` overrides [webhook] keys (durations as "0.2s")."""
    webhook_keys = {"timeout": 2, "backoff_initial": "0.2s", "backoff_max": "1s", **(webhook or {})}
    lines = [
        "[database]",
        f'url = "sqlite:///{database or directory / "smsgw.db"}"',
        "[api]",
        f'listen = "127.0.0.1:{free_port()}"',
        f'key = "{API_KEY}"',
        "[webhook]",
        f'url = "{webhook_url}"',
        *(
            f"{key} = {value!r}".replace("'", '"') if isinstance(value, str) else f"{key} = {value}"
            for key, value in webhook_keys.items()
        ),
        "[node]",
        'name = "rig"',
        node_extra,
        "[log]",
        'level = "info"',
    ]
    for name, link in modems.items():
        lines += ["[[modem]]", f'name = "{name}"', f'port = "{link}"', modem_extra]
    path = directory / "smsgw.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def api_base(config: Path) -> str:
    for line in config.read_text().splitlines():
        if line.startswith("listen = "):
            return "http://" + line.split('"')[1]
    raise ValueError(f"no api listen line in {config}")


class Daemon:
    """One `smsgw run` subprocess; start() returns once /health/ready says 200."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log = log
        self.base = api_base(config)
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def spawn(self) -> None:
        env = {**os.environ, "SMSGW_STATE_DIR": str(self.config.parent / "state")}
        with self.log.open("ab") as sink:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "smsgw", "run", "--config", str(self.config),
                stdout=sink, stderr=sink, env=env,
            )  # fmt: skip

    async def start(self, within: float = 30.0) -> float:
        """Spawn and wait until ready; the seconds from exec to the first 200 of /health/ready."""
        started = time.monotonic()
        await self.spawn()
        await self.wait_ready(within)
        return time.monotonic() - started

    async def wait_ready(self, within: float = 30.0) -> None:
        async with httpx.AsyncClient(timeout=1.0) as client:
            async with asyncio.timeout(within):
                while True:
                    assert self.process is not None
                    if self.process.returncode is not None:
                        raise RuntimeError(f"smsgw run exited: {self.tail()}")
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(self.base + "/health/ready")).status_code == 200:
                            return
                    await asyncio.sleep(0.01)

    async def kill(self) -> None:
        """SIGKILL: no cleanup at all, as a power cut or the OOM killer would do."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self, within: float = 30.0) -> int:
        """SIGTERM and wait: the graceful way out; the exit code."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.terminate()
        async with asyncio.timeout(within):
            return await self.process.wait()

    def tail(self, size: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-size:]

    def cpu_seconds(self) -> float:
        """User + system CPU of the daemon so far (/proc/PID/stat fields 14 and 15)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    async def send(self, client: httpx.AsyncClient, to: str, text: str, **extra: Any) -> str:
        """POST /api/v1/messages; the message id."""
        answer = await client.post(
            self.base + "/api/v1/messages",
            json={"to": to, "text": text, "delivery_report": False, **extra},
            headers={"X-API-Key": API_KEY},
        )
        answer.raise_for_status()
        message_id: str = answer.json()["id"]
        return message_id


@dataclasses.dataclass
class Wire:
    """What crossed one emulated modem's pty: timestamps of +CMTI and AT+CMGS, byte counts."""

    cmti: list[float] = dataclasses.field(default_factory=list)
    cmgs: list[float] = dataclasses.field(default_factory=list)
    commands: int = 0
    rx_bytes: int = 0
    tx_bytes: int = 0

    def tap(self, direction: str, data: bytes, at: float) -> None:
        if direction == "rx":
            self.rx_bytes += len(data)
            self.commands += data.upper().count(b"AT")
            self.cmgs.extend(at for _ in range(data.upper().count(b"AT+CMGS")))
        else:
            self.tx_bytes += len(data)
            self.cmti.extend(at for _ in range(data.count(b"+CMTI:")))


@contextlib.asynccontextmanager
async def emulated_modems(
    directory: Path,
    names: list[str],
    *,
    options: DeviceOptions | None = None,
    baud: int | None = None,
    profile: str | Profile = "sim800",
) -> AsyncIterator[dict[str, tuple[EmulatedModem, Wire]]]:
    """Booted emulators with a `Wire` on each; noise off so idle counts are the gateway's."""
    options = options or DeviceOptions(boot_scale=0.0, report_delay=0.2, noise_interval=0)
    async with contextlib.AsyncExitStack() as stack:
        modems: dict[str, tuple[EmulatedModem, Wire]] = {}
        for name in names:
            modem = await stack.enter_async_context(
                EmulatedModem(profile, directory / name, options=options, baud=baud)
            )
            wire = Wire()
            modem.add_wire_tap(wire.tap)
            modems[name] = (modem, wire)
        async with asyncio.timeout(10):
            for modem, _ in modems.values():
                await modem.wait_ready()
        yield modems


def roomy_sim800(capacity: int = 1000) -> Profile:
    """A SIM800 whose storages hold `capacity` entries: a whole burst fits on the "SIM"."""
    return dataclasses.replace(get_profile("sim800"), storages={"SM": capacity, "ME": capacity})


@contextlib.contextmanager
def tiny_tmpfs(path: Path, size: str = "16m") -> Iterator[Path]:
    """A small tmpfs of its own at `path` (root only; the test is skipped otherwise)."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


async def until(check: Any, within: float = 60.0, interval: float = 0.002) -> None:
    """Poll state another thread or process changes; AssertionError on timeout."""
    try:
        async with asyncio.timeout(within):
            while not check():  # noqa: ASYNC110 - the webhook server runs in another thread
                await asyncio.sleep(interval)
    except TimeoutError:
        raise AssertionError(f"condition not met within {within}s") from None
