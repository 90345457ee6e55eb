"""Control socket: drive a running emulator from another process (the CLI, scripts, tests).

Protocol: a unix stream socket; each request is one JSON object on one line, each answer
one JSON object on one line, `{"ok": true, ...}` or `{"ok": false, "error": "..."}`.

    {"cmd": "deliver", "sender": "+4072...", "text": "Hi"}     -> {"ok": true, "pdus": [...]}
    {"cmd": "deliver", "pdu": "0791..."}                        -> {"ok": true}
    {"cmd": "sent"}                                             -> {"ok": true, "sent": [...]}
    {"cmd": "unplug", "for_s": 3}                               -> {"ok": true}
    {"cmd": "replug"}                                           -> {"ok": true}
    {"cmd": "reboot"}                                           -> {"ok": true}
    {"cmd": "urc", "line": "RING", "at": "now|mid_reply|before_echo"} -> {"ok": true}
    {"cmd": "garbage", "hex": "FF00"}                           -> {"ok": true}
    {"cmd": "unresponsive", "on": true}                         -> {"ok": true}
    {"cmd": "fail_send", "cause": 38}                           -> {"ok": true}
    {"cmd": "ring", "number": "+4072...", "rings": 6}           -> {"ok": true}
    {"cmd": "status"}                                           -> {"ok": true, "profile": ...}
    {"cmd": "ussd", "reply": "Credit: 5 EUR", "menu": false}    -> {"ok": true}
    {"cmd": "ussd", "tree": {"*100#": ["1 Balance", {"1": "5 EUR"}]}} -> {"ok": true}
    {"cmd": "call", "number": "+4072...", "rings": 3}           -> {"ok": true} ("" withheld)
    {"cmd": "register", "state": "home|roaming|searching|denied"} -> {"ok": true}
    {"cmd": "signal", "rssi": 0}                                -> {"ok": true}
    {"cmd": "radio_stuck", "permanent": false}                  -> {"ok": true}

The server calls back into an `EmulatedModem`-like object through the `Controllable`
protocol so this module stays independent of the pty runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
import stat
from pathlib import Path
from typing import Any, Protocol

from smsgw.emulator.live_faults import LiveFaults
from smsgw.emulator.radio import NETWORK_STATES
from smsgw.emulator.ussd import ScriptedReply, UssdService, menu_from_json

log = logging.getLogger(__name__)

MAX_REQUEST = 1 << 20


class ControlError(Exception):
    """The emulator refused a control request, or could not be reached."""


class Controllable(Protocol):
    """What the control server needs from the running emulator."""

    async def deliver(self, sender: str, text: str) -> list[str]: ...
    async def deliver_pdu(self, pdu_hex: str) -> None: ...
    def sent_json(self) -> list[dict[str, object]]: ...
    async def unplug(self, for_s: float | None = None) -> None: ...
    async def replug(self) -> None: ...
    async def reboot(self) -> None: ...
    @property
    def faults(self) -> LiveFaults: ...
    async def ring(self, number: str, rings: int = 6) -> None: ...
    async def call(self, number: str, rings: int = 6) -> None: ...
    def set_ussd(self, service: UssdService) -> None: ...
    def status(self) -> dict[str, object]: ...


def _text(request: dict[str, Any], key: str) -> str:
    value = request.get(key)
    if not isinstance(value, str):
        raise ControlError(f"{key!r} must be a string")
    return value


async def handle_request(target: Controllable, request: dict[str, Any]) -> dict[str, Any]:
    """Execute one decoded request; errors become `{"ok": false, "error": ...}`."""
    command = request.get("cmd")
    try:
        if command == "deliver":
            if "pdu" in request:
                await target.deliver_pdu(_text(request, "pdu"))
                return {"ok": True}
            pdus = await target.deliver(_text(request, "sender"), _text(request, "text"))
            return {"ok": True, "pdus": pdus}
        if command == "sent":
            return {"ok": True, "sent": target.sent_json()}
        if command == "unplug":
            for_s = request.get("for_s")
            if for_s is not None and not isinstance(for_s, int | float):
                raise ControlError("'for_s' must be a number")
            await target.unplug(for_s)
            return {"ok": True}
        if command == "replug":
            await target.replug()
            return {"ok": True}
        if command == "reboot":
            await target.reboot()
            return {"ok": True}
        if command == "urc":
            at = request.get("at", "now")
            if at not in ("now", "mid_reply", "before_echo"):
                raise ControlError("'at' must be now, mid_reply or before_echo")
            await target.faults.inject_urc(_text(request, "line"), at)
            return {"ok": True}
        if command == "garbage":
            target.faults.inject_garbage(bytes.fromhex(_text(request, "hex")))
            return {"ok": True}
        if command == "unresponsive":
            target.faults.set_unresponsive(bool(request.get("on", True)))
            return {"ok": True}
        if command == "fail_send":
            cause = request.get("cause", 500)
            if not isinstance(cause, int):
                raise ControlError("'cause' must be an integer")
            target.faults.fail_next_send(cause)
            return {"ok": True}
        if command == "ring":
            rings = request.get("rings", 6)
            if not isinstance(rings, int) or not 1 <= rings <= 100:
                raise ControlError("'rings' must be an integer 1-100")
            await target.ring(_text(request, "number"), rings)
            return {"ok": True}
        if command == "status":
            return {"ok": True, **target.status()}
        if command in _NETWORK_COMMANDS:
            await _network(target, command, request)
            return {"ok": True}
        raise ControlError(f"unknown command {command!r}")
    except (ControlError, ValueError) as error:
        return {"ok": False, "error": str(error)}


_NETWORK_COMMANDS = frozenset({"ussd", "call", "register", "signal", "radio_stuck"})


async def _network(target: Controllable, command: str, request: dict[str, Any]) -> None:
    """What the network does: USSD answers, calls, registration, signal, a stuck radio."""
    if command == "ussd":
        if "tree" in request:
            target.set_ussd(menu_from_json(request["tree"]))
            return
        reply = _text(request, "reply")
        if not reply or len(reply) > 182:
            raise ControlError("'reply' must be 1-182 characters")
        target.set_ussd(ScriptedReply(reply, menu=bool(request.get("menu", False))))
    elif command == "call":
        number = request.get("number", "")
        rings = request.get("rings", 6)
        if not isinstance(number, str) or not re.fullmatch(r"(\+?[0-9]{1,20})?", number):
            raise ControlError("'number' must be digits with an optional + ('' withheld)")
        if not isinstance(rings, int) or not 1 <= rings <= 100:
            raise ControlError("'rings' must be an integer 1-100")
        await target.call(number, rings)
    elif command == "register":
        name = _text(request, "state")
        if name not in NETWORK_STATES:
            raise ControlError(f"'state' must be one of {', '.join(NETWORK_STATES)}")
        await target.faults.set_registration(name)
    elif command == "signal":
        rssi = request.get("rssi")
        if not isinstance(rssi, int) or not (0 <= rssi <= 31 or rssi == 99):
            raise ControlError("'rssi' must be 0-31 or 99")
        target.faults.set_signal(rssi)
    else:
        await target.faults.stick_radio(bool(request.get("permanent", False)))


class ControlServer:
    """Serves JSON-line requests on a unix socket for one emulator."""

    def __init__(self, target: Controllable, path: Path) -> None:
        self.target = target
        self.path = path
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        """Listen on `path`; a stale socket is replaced, any other file is refused."""
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISSOCK(self.path.lstat().st_mode):
                raise FileExistsError(f"{self.path} exists and is not a socket")
            self.path.unlink()
        self._server = await asyncio.start_unix_server(
            self._serve, path=str(self.path), limit=MAX_REQUEST
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    request = json.loads(line)
                    if not isinstance(request, dict):
                        raise ValueError("request must be a JSON object")
                except ValueError as error:
                    answer: dict[str, Any] = {"ok": False, "error": f"bad request: {error}"}
                else:
                    answer = await handle_request(self.target, request)
                writer.write(json.dumps(answer).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError) as error:
            log.debug("control connection dropped: %s", error)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def request(path: Path, payload: dict[str, Any], *, timeout: float = 10.0) -> dict[str, Any]:
    """Blocking client for one request (what the CLI uses); ControlError on any failure."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps(payload).encode() + b"\n")
            buffer = b""
            while not buffer.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
    except OSError as error:
        raise ControlError(f"cannot reach the emulator at {path}: {error}") from error
    try:
        answer = json.loads(buffer)
    except ValueError as error:
        raise ControlError(f"bad answer from the emulator: {buffer[:200]!r}") from error
    if not isinstance(answer, dict):
        raise ControlError(f"bad answer from the emulator: {answer!r}")
    if not answer.get("ok"):
        raise ControlError(str(answer.get("error", "request failed")))
    return answer
