"""The real daemon for browser tests: `smsgw run`'s own `serve()` (Gateway + create_app +
uvicorn on a loopback port) with an emulated SIM800 on a real pty and a real webhook server.

Everything runs on one event loop in a background thread, so the test (a plain synchronous
function driving Chromium) reaches the emulator through `LiveGateway.run(coroutine)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx

from smsgw.cli.run import serve
from smsgw.config import Settings
from smsgw.emulator import DeviceOptions, EmulatedModem
from tests.ports import free_port
from tests.webhook.http_server import Answer, Received, WebhookServer

T = TypeVar("T")

API_KEY = "ui-test-key-Zq8v2N7x"
WEBHOOK_SECRET = "ui-test-webhook-secret-Kp4w"
MODEM = "sim0"
#: Fast boot and delivery reports; sends take a moment so `queued`/`sent` are visible.
EMULATOR_OPTIONS = DeviceOptions(boot_scale=0.0, report_delay=0.8, cmgs_delay=0.2)


class SwitchableWebhook:
    """A webhook that fails (HTTP 500) until told to work, recording what it accepted."""

    def __init__(self) -> None:
        self.failing = True
        self.accepted: list[Received] = []

    def __call__(self, request: Received) -> Answer:
        if self.failing:
            return Answer(500, b"webhook down for maintenance")
        self.accepted.append(request)
        return Answer(200)


@dataclasses.dataclass
class LiveGateway:
    base_url: str
    settings: Settings
    modem: EmulatedModem
    webhook: SwitchableWebhook
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 20) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=timeout)


def _settings(directory: Path, *, port: int, webhook_url: str) -> Settings:
    return Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{directory / 'smsgw.db'}"},
            "api": {"listen": f"127.0.0.1:{port}", "key": API_KEY},
            "webhook": {
                "url": webhook_url,
                "secret": WEBHOOK_SECRET,
                "timeout": 2.0,
                # Short enough that a failing webhook dead-letters within the test.
                "max_age": "2s",
                "backoff_initial": "0.2s",
                "backoff_max": "0.5s",
            },
            "node": {"name": "ui-test"},
            "log": {"level": "warning"},
            "modem": [{"name": MODEM, "port": str(directory / MODEM)}],
        }
    )


def _wait_ready(base_url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/health/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the gateway at {base_url} did not become ready")


@contextlib.contextmanager
def live_gateway(directory: Path) -> Iterator[LiveGateway]:
    """Run the daemon until the block ends; yields once the modem is READY."""
    webhook = SwitchableWebhook()
    with WebhookServer(webhook) as server:
        port = free_port()
        settings = _settings(directory, port=port, webhook_url=server.url)
        started = threading.Event()
        box: dict[str, Any] = {}

        async def main() -> None:
            async with EmulatedModem(
                "sim800", directory / MODEM, options=EMULATOR_OPTIONS
            ) as modem:
                stop = asyncio.Event()
                box.update(modem=modem, stop=stop, loop=asyncio.get_running_loop())
                started.set()
                await serve(settings, API_KEY, stop=stop)

        def thread_main() -> None:
            try:
                asyncio.run(main())
            except BaseException as error:  # surfaced to the test below
                box["error"] = error
                started.set()

        thread = threading.Thread(target=thread_main, name="ui-gateway", daemon=True)
        thread.start()
        base_url = f"http://127.0.0.1:{port}"
        try:
            if not started.wait(20) or "error" in box:
                raise RuntimeError(f"emulator did not start: {box.get('error')!r}")
            _wait_ready(base_url, time.monotonic() + 30)
            yield LiveGateway(
                base_url=base_url,
                settings=settings,
                modem=box["modem"],
                webhook=webhook,
                loop=box["loop"],
            )
        finally:
            if "stop" in box:
                box["loop"].call_soon_threadsafe(box["stop"].set)
            thread.join(timeout=20)
