"""One-shot use of a modem without a supervisor (``smsgw modem info``, ``smsgw send --port``).

    async with connect(port, pin="1234", initialise=True) as modem:
        refs = await modem.send_sms("+40722000000", "hello")

Opens the port, waits for ``AT``, identifies the dialect and, with ``initialise=True``, runs
the full initialisation; otherwise only ``ATE0``, ``AT+CMEE=1`` and PIN entry (if a PIN is
given and asked for). Errors are the typed ones: ``AtConnectionLost`` (cannot open),
``AtTimeout`` (nothing answers), ``SimError``, ``ModemError``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from smsgw.at import commands as cmd
from smsgw.at.channel import AtChannel
from smsgw.at.transport import DEFAULT_BAUD, open_transport
from smsgw.exceptions import AtCommandError, CmeError
from smsgw.modem.base import Modem, ModemSettings
from smsgw.modem.registry import dialect_for


@contextlib.asynccontextmanager
async def connect(
    port: str,
    *,
    baudrate: int = DEFAULT_BAUD,
    pin: str | None = None,
    dialect: str | None = None,
    initialise: bool = False,
    probe_within: float = 5.0,
    settings: ModemSettings | None = None,
) -> AsyncIterator[Modem]:
    transport = await open_transport(port, baudrate=baudrate)
    channel = AtChannel(transport)
    channel.start()
    modem: Modem | None = None
    try:
        probe = Modem(channel)
        await probe.probe(within=probe_within)
        with contextlib.suppress(AtCommandError, CmeError):
            await probe.run(cmd.echo(False))
        identity = await probe.identify()
        chosen = settings or ModemSettings(pin=pin)
        modem = dialect_for(identity, dialect)(channel, modem_id=port, settings=chosen)
        modem.identity = identity
        if initialise:
            await modem.initialise()
        else:
            await modem.run(cmd.error_mode(1))
            if pin is not None:
                await modem.unlock_sim()
        yield modem
    finally:
        if modem is not None:
            await modem.close()
        await channel.close()
