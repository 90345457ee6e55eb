"""What can be asked of any AT modem, initialised or not: liveness, identity, SIM state,
network, storage use and the ``smsgw modem info`` record.

:class:`ModemQueries` is the read-only part of the command surface. It keeps no state
beyond the answers it was given (identity, own number), which is why the supervisor can
use a bare one to probe and identify a modem before it knows the dialect.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from smsgw.at import commands as cmd
from smsgw.at.channel import AtChannel, Reply
from smsgw.at.fields import strip_prefix
from smsgw.at.identity import parse_cnum, parse_cpin, parse_csca, parse_identity
from smsgw.at.network import (
    Operator,
    Registration,
    Signal,
    parse_cops,
    parse_creg,
    parse_csq,
)
from smsgw.at.storage import StorageUse, parse_cpms_query, parse_cpms_support
from smsgw.exceptions import (
    AtCommandError,
    AtConnectionLost,
    AtError,
    AtResponseError,
    CmeError,
    CmsError,
)
from smsgw.modem.values import Identity, ModemInfo

__all__ = ["ModemQueries"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")


class ModemQueries:
    """One-command questions to the modem behind `channel`, each answer parsed."""

    dialect = "generic"

    def __init__(self, channel: AtChannel, *, modem_id: str = "modem") -> None:
        self.channel = channel
        self.modem_id = modem_id
        self.identity: Identity | None = None
        #: The SIM's own number (``AT+CNUM`` at initialisation); None when it stores none.
        self.own_number: str | None = None
        #: Set by a completed initialisation: `own_number` is then current.
        self.initialised = False
        #: The network registration last seen (``AT+CREG?`` or a ``+CREG`` URC); None: unknown.
        self.last_registration: Registration | None = None

    async def run(self, command: cmd.Command) -> Reply:
        return await self.channel.execute(command)

    async def probe(self, *, within: float = 10.0, interval: float = 0.5) -> None:
        """Send ``AT`` until it answers ``OK`` (autobauding SIM800 sends no banner, §2.2).

        From the second attempt on, ESC goes first: a modem that does not answer may still
        sit in the ``AT+CMGS`` prompt of a process killed mid-send (``kill -9``, power cut of
        the host only), and would otherwise never answer again.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        quick = dataclasses.replace(cmd.attention(), timeout=max(0.2, min(1.0, within)))
        first = True
        while True:
            if not first:
                await self.channel.escape()
            first = False
            try:
                await self.run(quick)
                return
            except (AtCommandError, CmeError, CmsError):
                return  # it answered; a firmware that says ERROR to AT is still alive
            except AtError as exc:
                if isinstance(exc, AtConnectionLost) or loop.time() >= deadline:
                    raise
            await asyncio.sleep(interval)

    async def identify(self) -> Identity:
        """``AT+CGMI``/``+CGMM``/``+CGMR``/``+CGSN``; only the first two are required."""
        maker = parse_identity(list((await self.run(cmd.manufacturer())).lines), "+CGMI")
        model = parse_identity(list((await self.run(cmd.model())).lines), "+CGMM")
        revision = await self._optional_identity(cmd.revision(), "+CGMR")
        imei = await self._optional_identity(cmd.imei(), "+CGSN")
        self.identity = Identity(maker, model, revision, imei)
        return self.identity

    async def _optional_identity(self, command: cmd.Command, prefix: str) -> str | None:
        try:
            return parse_identity(list((await self.run(command)).lines), prefix)
        except (AtCommandError, CmeError, CmsError, AtResponseError):
            return None

    async def sim_state(self) -> str:
        try:
            reply = await self.run(cmd.pin_query())
        except CmeError as exc:
            if exc.code == 10:
                return "NOT INSERTED"
            raise
        return parse_cpin(reply.first("+CPIN"))

    async def signal(self) -> Signal:
        return parse_csq((await self.run(cmd.signal_quality())).first("+CSQ"))

    async def registration(self) -> Registration:
        line = (await self.run(cmd.registration_query())).first("+CREG")
        self.last_registration = parse_creg(line, solicited=True)
        return self.last_registration

    async def operator(self) -> Operator:
        return parse_cops((await self.run(cmd.operator_query())).first("+COPS"))

    async def storage_use(self) -> list[StorageUse]:
        return parse_cpms_query((await self.run(cmd.storage_query())).first("+CPMS"))

    async def read_own_number(self) -> str | None:
        """The SIM's number via ``AT+CNUM``; None when the SIM stores none, the firmware does
        not know the command, or its answer makes no sense (logged: never fatal)."""
        try:
            return parse_cnum((await self.run(cmd.subscriber_number())).lines)
        except (AtCommandError, CmeError, CmsError) as exc:
            log.debug("%s: no own number: %s", self.modem_id, exc)
        except AtResponseError as exc:
            log.warning("%s: ignoring an unreadable AT+CNUM answer: %s", self.modem_id, exc)
        return None

    async def service_center(self) -> str | None:
        return parse_csca((await self.run(cmd.service_center_query())).first("+CSCA"))

    async def info(self) -> ModemInfo:
        """Collect what ``smsgw modem info`` shows; each query may fail on its own."""
        identity = self.identity or await self.identify()
        support_line = await self._optional(lambda: self._first(cmd.storage_support(), "+CPMS"))
        cnmi_line = await self._optional(lambda: self._first(cmd.indication_support(), "+CNMI"))
        smsc = await self._optional(self.service_center)
        own_number = self.own_number if self.initialised else await self.read_own_number()
        static = ModemInfo(
            dialect=self.dialect,
            identity=identity,
            sim=None,
            operator=None,
            signal_dbm=None,
            signal_rssi=None,
            registration=None,
            storage=[],
            storage_support=parse_cpms_support(support_line) if support_line else (),
            cnmi_support=strip_prefix(cnmi_line, "+CNMI") if cnmi_line else None,
            service_center=smsc,
            own_number=own_number,
        )
        return await self.refresh_info(static)

    async def refresh_info(self, previous: ModemInfo) -> ModemInfo:
        """`previous` with what changes while the modem runs read again: SIM state, operator,
        signal, registration and storage use (5 commands instead of `info`'s 8).

        The gateway refreshes every minute for the API, the UI's signal graph and the
        metrics; identity, supported storages and indications, SMSC and own number do not
        change without a reconnect (which reads them afresh), so re-asking would only make
        the idle serial line busier.
        """
        sim = await self._optional(self.sim_state)
        operator = await self._optional(self.operator)
        signal = await self._optional(self.signal)
        registration = await self._optional(self.registration)
        storage = await self._optional(self.storage_use) or []
        return dataclasses.replace(
            previous,
            sim=sim,
            operator=operator.name if operator else None,
            signal_dbm=signal.dbm if signal else None,
            signal_rssi=signal.rssi if signal else None,
            registration=registration.description if registration else None,
            storage=storage,
        )

    async def _optional(self, query: Callable[[], Awaitable[_T]]) -> _T | None:
        """The answer to one informational query, or None when the modem refuses it."""
        try:
            return await query()
        except (AtCommandError, CmeError, CmsError, AtResponseError) as exc:
            log.debug("%s: %s", self.modem_id, exc)
            return None

    async def _first(self, command: cmd.Command, prefix: str) -> str:
        return (await self.run(command)).first(prefix)
