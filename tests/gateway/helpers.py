"""Helpers for gateway tests, which run the real thing: emulated modems on real ptys, a real
HTTP webhook server on 127.0.0.1 and SQLite in the test's temporary directory."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

from smsgw.config import Settings
from smsgw.emulator import DeviceOptions, EmulatedModem
from smsgw.gateway import Gateway
from smsgw.modem import SupervisorSettings
from tests.webhook.http_server import Received

#: Fast boot, quick sends and reports, so a whole flow takes well under a second.
EMULATOR_OPTIONS = DeviceOptions(boot_scale=0.0, report_delay=0.3, cmgs_delay=0.05)
SENDER = "+40721000000"


def gateway_settings(
    tmp_path: Path,
    *,
    webhook_url: str,
    modems: Mapping[str, Path],
    secret: str = "",
    history_size: int = 10,
    limits: Mapping[str, int] | None = None,
    backoff: float = 0.2,
) -> Settings:
    return Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{tmp_path / 'smsgw.db'}"},
            "webhook": {
                "url": webhook_url,
                "secret": secret,
                "history_size": history_size,
                "timeout": 2.0,
                "backoff_initial": datetime.timedelta(seconds=backoff),
                "backoff_max": datetime.timedelta(seconds=max(backoff, 1.0)),
            },
            "limits": dict(limits or {}),
            "node": {"name": "test-node"},
            "modem": [{"name": name, "port": str(link)} for name, link in modems.items()],
        }
    )


def fast_supervisors(_modem: object) -> SupervisorSettings:
    return SupervisorSettings(
        backoff_initial=0.1, backoff_max=0.5, health_interval=30, sweep_interval=60
    )


@contextlib.asynccontextmanager
async def running_gateway(settings: Settings, **options: Any) -> AsyncIterator[Gateway]:
    """A started gateway whose modems are all READY."""
    async with Gateway(settings, supervisor_settings=fast_supervisors, **options) as gateway:
        async with asyncio.timeout(15):
            for modem in settings.modem:
                await gateway.supervisor(modem.name).wait_ready()
        yield gateway


@contextlib.asynccontextmanager
async def emulators(tmp_path: Path, *names: str) -> AsyncIterator[dict[str, EmulatedModem]]:
    async with contextlib.AsyncExitStack() as stack:
        modems = {
            name: await stack.enter_async_context(
                EmulatedModem("sim800", tmp_path / name, options=EMULATOR_OPTIONS)
            )
            for name in names
        }
        yield modems


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Poll state that other threads/processes change (HTTP server thread, pty peer)."""
    try:
        async with asyncio.timeout(within):
            while not check():  # noqa: ASYNC110 - no event to wait on across threads
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"condition not met within {within}s") from None


def of_type(received: list[Received], kind: str) -> list[dict[str, Any]]:
    return [r.json() for r in list(received) if r.json().get("type") == kind]
