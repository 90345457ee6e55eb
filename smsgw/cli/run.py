"""`smsgw run [--config FILE]`: the gateway daemon and the REST API in one event loop.

SIGTERM/SIGINT stop it gracefully (systemd's `KillMode`): the API stops accepting requests,
then the gateway finishes what it can and records the rest for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Iterator

import uvicorn

from smsgw import config as smsgw_config
from smsgw.at.portlock import refuse_held_ports
from smsgw.cli import logs
from smsgw.cli.common import fail
from smsgw.cli.config import (
    ConfigOption,
    load_or_exit,
    no_modem_problem,
    prepare_state_dir_or_exit,
)
from smsgw.config import Settings
from smsgw.exceptions import SmsgwError
from smsgw.gateway import Gateway
from smsgw.webfront import lazy_web_front

log = logging.getLogger(__name__)


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: ours stop the gateway and the API together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve_api(server: uvicorn.Server) -> None:
    """uvicorn calls sys.exit() when it cannot bind; inside the loop that would skip the
    gateway's graceful stop, so it becomes a normal return here (the caller sees the task end
    before any stop was asked for)."""
    try:
        await server.serve()
    except SystemExit as exit_request:
        log.error("the REST API stopped at start-up (uvicorn exit %s)", exit_request.code)


def _freeze_start_up_objects() -> None:
    """Move what start-up built (modules, settings, SQL statements, the app: ~110,000 objects
    that live as long as the process) out of the garbage collector's sight.

    Otherwise every full collection walks them all, with the event loop stopped: 20-90 ms
    measured on a 2-core machine, a pause an incoming SMS's webhook POST would wait out.
    Collections then only look at objects made since, which is where garbage comes from."""
    gc.collect()
    gc.freeze()


async def serve(settings: Settings, api_key: str, *, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or SIGTERM/SIGINT when it is None)."""
    stopping = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    if stop is None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
    async with Gateway(settings) as gateway:
        server = _QuietServer(
            uvicorn.Config(
                lazy_web_front(gateway, api_key, public_metrics=settings.api.public_metrics),
                host=settings.api.host,
                port=settings.api.port,
                # smsgw's root handler formats uvicorn's records too (one format);
                # smsgw.cli.logs sets the levels.
                log_config=None,
                log_level=None,
                lifespan="off",
            )
        )
        _freeze_start_up_objects()
        server_task = asyncio.create_task(_serve_api(server), name="api")
        log.info("REST API on http://%s:%d", settings.api.host, settings.api.port)
        stop_waiter = asyncio.create_task(stopping.wait())
        await asyncio.wait({stop_waiter, server_task}, return_when=asyncio.FIRST_COMPLETED)
        if server_task.done() and not stopping.is_set():
            stop_waiter.cancel()
            # uvicorn ends by itself when it cannot bind api.listen: that is fatal.
            raise SmsgwError(f"the REST API could not listen on {settings.api.listen}")
        log.info("stopping")
        server.should_exit = True
        with contextlib.suppress(Exception):
            await server_task


def run(config: ConfigOption = None) -> None:
    """Run the gateway: modems, webhook dispatcher and REST API, until SIGTERM."""
    settings = load_or_exit(config)
    if not settings.modem:
        fail(no_modem_problem(config))
    logs.set_level(settings.log.level)
    refuse_held_ports([modem.port for modem in settings.modem])
    directory = prepare_state_dir_or_exit(settings)
    try:
        api_key, key_file = smsgw_config.ensure_api_key(settings, directory)
    except SmsgwError as error:
        log.error("cannot set up the API key: %s", error)
        raise SystemExit(1) from error
    if key_file is not None:
        print(f"API key: {key_file} (send it as X-API-Key)", flush=True)
    else:
        print("API key: api.key from the configuration", flush=True)
    try:
        asyncio.run(serve(settings, api_key))
    except SmsgwError as error:
        log.error("gateway stopped: %s", error)
        raise SystemExit(1) from error
