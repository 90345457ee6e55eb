"""A real uvicorn server on 127.0.0.1 serving `smsgw.webapp.create_app` over a real SQLite
store.

`FakeServices` stands in for the gateway (no modems) but keeps the gateway's rules that
the API relies on: unknown modem → 422, daily limit → 429, enqueue through the store.
The server runs its own event loop in a thread; `LiveApi.run(coro)` executes store calls
on that loop (SQLAlchemy's async engine belongs to the loop that opened it).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from smsgw.config import Settings, load_settings
from smsgw.exceptions import SubmitRefused
from smsgw.gateway.throttle import AuthThrottle
from smsgw.models import ModemView, SendOptions
from smsgw.pdu import PartCount, count_parts
from smsgw.store import Database, open_database, repository, upgrade
from smsgw.store.types import (
    Enqueued,
    HistoryItem,
    NewEvent,
    ReceivedMessage,
    StatusReport,
)
from smsgw.webapp import create_app
from tests import store_helpers
from tests.store_helpers import no_status_event

T = TypeVar("T")

API_KEY = "test-key-0123456789"


@dataclasses.dataclass
class FakeServices:
    """`GatewayOperations` without modems: every configured modem is READY."""

    settings: Settings
    db: Database
    api_key: str
    is_ready: bool = True
    #: How many times the API asked the (absent) webhook dispatcher to look for due events.
    webhook_wakes: int = 0

    async def submit(
        self,
        *,
        to: str,
        text: str,
        modem: str | None,
        delivery_report: bool,
        idempotency_key: str | None,
        count: PartCount | None = None,
        options: SendOptions | None = None,
    ) -> Enqueued:
        names = [configured.name for configured in self.settings.modem]
        if modem is not None and modem not in names:
            raise SubmitRefused(422, f"modem: unknown modem {modem!r}; known: {names}")
        count = count or count_parts(text)
        for name in [modem] if modem else names:
            if await repository.daily_count(self.db, name) >= self.settings.limits.daily_per_modem:
                raise SubmitRefused(429, f"daily limit reached on modem {name!r}")
        return await repository.enqueue_outgoing(
            self.db,
            peer=to,
            text=text,
            parts=count.parts,
            encoding=count.encoding,
            modem=modem,
            delivery_report=delivery_report,
            idempotency_key=idempotency_key,
            options=options,
        )

    async def modems(self) -> list[ModemView]:
        return [
            ModemView(
                name=configured.name,
                node=self.settings.node.name,
                port=configured.port,
                state="ready",
                reason=None,
                manufacturer="SIMCOM_Ltd",
                model="SIMCOM_SIM800L",
                revision="1418B05SIM800L24",
                operator="Orange RO",
                signal_dbm=-73,
                registration="home",
                storage_used=0,
                storage_total=50,
                counters={"today": await repository.daily_count(self.db, configured.name)},
                last_seen=None,
            )
            for configured in self.settings.modem
        ]

    async def ready(self) -> tuple[bool, str]:
        await self.db.ping()
        return (True, "ok") if self.is_ready else (False, "no modem is READY")

    def wake_webhook(self) -> None:
        self.webhook_wakes += 1


def write_config(directory: Path, *, daily_per_modem: int = 10000, max_parts: int = 6) -> Path:
    path = directory / "smsgw.toml"
    path.write_text(
        f"""
[database]
url = "sqlite:///{directory / "api.db"}"
[api]
key = "{API_KEY}"
default_region = "RO"
[limits]
daily_per_modem = {daily_per_modem}
max_parts = {max_parts}
[node]
name = "test-node"
[[modem]]
name = "sim800"
port = "/dev/ttyFAKE0"
[[modem]]
name = "huawei"
port = "/dev/ttyFAKE1"
""",
        encoding="utf-8",
    )
    return path


@dataclasses.dataclass
class LiveApi:
    base_url: str
    key: str
    services: FakeServices
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a store call on the server's loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=20)

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


@contextlib.contextmanager
def live_api(directory: Path, **config: int) -> Iterator[LiveApi]:
    """Serve the API on an ephemeral loopback port until the block ends."""
    settings = load_settings(write_config(directory, **config), env={})
    started = threading.Event()
    box: dict[str, Any] = {}

    async def serve() -> None:
        await upgrade(settings.database.url)
        db = open_database(settings.database.url)
        services = FakeServices(settings=settings, db=db, api_key=API_KEY)
        server = uvicorn.Server(
            uvicorn.Config(
                # The auth tests send hundreds of wrong keys from 127.0.0.1 on purpose; the
                # throttle has tests of its own (tests/secrets).
                create_app(services, API_KEY, throttle=AuthThrottle(free_failures=1_000_000)),
                host="127.0.0.1",
                port=0,
                log_level="warning",
                lifespan="off",
            )
        )
        box.update(server=server, services=services, loop=asyncio.get_running_loop())
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():  # noqa: ASYNC110 (uvicorn has no event)
            await asyncio.sleep(0.01)
        started.set()
        try:
            await task
        finally:
            await db.close()

    def main() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # surfaced to the test below
            box["error"] = exc
            started.set()

    thread = threading.Thread(target=main, name="live-api", daemon=True)
    thread.start()
    if not started.wait(30) or "error" in box:
        raise RuntimeError(f"API server did not start: {box.get('error')!r}")
    server: uvicorn.Server = box["server"]
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveApi(
            base_url=f"http://127.0.0.1:{port}",
            key=API_KEY,
            services=box["services"],
            loop=box["loop"],
        )
    finally:
        server.should_exit = True
        thread.join(timeout=15)


# ----------------------------------------------------------------------------- store helpers


async def receive(db: Database, *, sender: str, text: str, modem: str = "sim800") -> str:
    """Store an incoming SMS as the gateway would; returns its message id."""
    return await store_helpers.receive(
        db, sender=sender, text=text, modem=modem, render=_incoming_event
    )


def _incoming_event(message: ReceivedMessage, earlier: Sequence[HistoryItem]) -> NewEvent:
    return NewEvent(event_id=f"in-{message.id}", body=b"{}")


async def send_and_deliver(db: Database, *, modem: str, tp_mr: int, deliver: bool) -> str:
    """Claim the next queued message on `modem`, send its single part, optionally deliver."""
    claimed = await repository.claim_next_outgoing(db, modem=modem, node="test-node")
    assert claimed is not None
    await repository.record_part_sent(db, claimed.id, seq=1, tp_mr=tp_mr)
    await repository.mark_sent(db, claimed.id, render_status=no_status_event)
    if deliver:
        await repository.apply_status_report(
            db,
            StatusReport(modem=modem, tp_mr=tp_mr, recipient=claimed.peer, tp_st=0),
            render_status=no_status_event,
        )
    return claimed.id
