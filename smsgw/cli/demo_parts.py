"""The demo's plumbing: its settings, loopback HTTP servers on ready sockets, step timeouts.

Kept apart from the scripted conversation (`smsgw.cli.demo`) so the story reads on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from smsgw.cli.demo_state import DEMO_DATABASE
from smsgw.config import Settings

__all__ = ["MODEM", "STEP_TIMEOUT", "StepFailed", "bind", "demo_settings", "serving", "within"]

T = TypeVar("T")

MODEM = "sim800"
#: Longest wait for one step (modem boot is the slowest, a few seconds at most).
STEP_TIMEOUT = 30.0


class StepFailed(Exception):
    """A scripted step did not happen in time (the message says which)."""


async def within(awaitable: Awaitable[T], what: str, seconds: float = STEP_TIMEOUT) -> T:
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError:
        raise StepFailed(f"{what}: nothing after {seconds:.0f} s") from None


def bind(port: int) -> socket.socket:
    """A listening loopback socket on `port`, or on a free port when it is taken (or 0)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@contextlib.asynccontextmanager
async def serving(app: Callable[..., Any], sock: socket.socket) -> AsyncIterator[None]:
    """Serve an ASGI app with uvicorn on an already bound socket, in this event loop."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # uvicorn exposes no started event
            if task.done():
                await task
                raise StepFailed("the HTTP server stopped while starting")
            await asyncio.sleep(0.01)
        yield
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)
        sock.close()


def demo_settings(
    directory: Path, link: Path, webhook_url: str, secret: str, api_key: str, api_url: str
) -> Settings:
    return Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{directory / DEMO_DATABASE}"},
            # The script sends to a national number ("0721 000 000") to show normalisation;
            # a real installation sets its own region (there is no default country).
            "api": {
                "listen": api_url.removeprefix("http://"),
                "key": api_key,
                "default_region": "RO",
            },
            "webhook": {
                "url": webhook_url,
                "secret": secret,
                "history_size": 10,
                "timeout": 5.0,
                "backoff_initial": datetime.timedelta(seconds=0.5),
                "backoff_max": datetime.timedelta(seconds=5),
            },
            "node": {"name": "demo"},
            "modem": [{"name": MODEM, "port": str(link), "dialect": "sim800"}],
        }
    )
