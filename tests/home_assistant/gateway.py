"""smsgw as Home Assistant sees it: `smsgw run` on an emulated modem, each in its own process.

Both run as child processes (`smsgw emulator serve` on a pty, `smsgw run` reading it) so the
test itself stays synchronous while it polls Home Assistant: nothing in the test's thread has
to answer the modem's AT traffic in time. The test talks to the emulator through its control
socket (an SMS arrives from the network; what the modem sent) and to smsgw through its API.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from smsgw.emulator.control import ControlError, request
from tests.ports import free_port

API_KEY = "home-assistant-e2e-key"
_T = TypeVar("_T")


def wait_until(check: Callable[[], _T | None], within: float, what: str) -> _T:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {within}s for {what}")
        time.sleep(0.1)


class Emulator:
    """`smsgw emulator serve`: one SIM800 on a pty link, driven through its control socket."""

    def __init__(
        self,
        directory: Path,
        name: str,
        own_number: str,
        profile: str = "sim800",
        ussd: dict[str, str] | None = None,
    ) -> None:
        self.profile = profile
        self.ussd = ussd or {}
        self.link = directory / name
        self.control = directory / f"{name}.ctl"
        self.log = directory / f"{name}.log"
        self.own_number = own_number
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "smsgw", "emulator", "serve", "--profile", self.profile,
                 "--link", str(self.link),
                 "--control", str(self.control), "--cmgs-delay", "0.1", "--report-delay", "0.3",
                 "--own-number", self.own_number,
                 *(f"--ussd={code}={answer}" for code, answer in self.ussd.items())],
                stdout=sink, stderr=sink,
            )  # fmt: skip
        wait_until(self._answers, 20, "the emulator's control socket")

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"emulator exited: {self.log.read_text(errors='replace')}")
        try:
            request(self.control, {"cmd": "status"}, timeout=2)
        except ControlError:
            return False
        return True

    def deliver(self, sender: str, text: str) -> None:
        """An SMS reaches the modem from the network (the modem then raises +CMTI)."""
        request(self.control, {"cmd": "deliver", "sender": sender, "text": text})

    def sent(self) -> list[dict[str, Any]]:
        """Every SMS the host sent through this modem with AT+CMGS: recipient, text, parts."""
        sent: list[dict[str, Any]] = request(self.control, {"cmd": "sent"})["sent"]
        return sent

    def stop(self) -> None:
        _terminate(self.process)


class Gateway:
    """`smsgw run` with `[mqtt]` pointed at the test broker and no webhook (MQTT alone)."""

    def __init__(
        self,
        directory: Path,
        modems: dict[str, Path],
        mqtt: dict[str, Any],
        modem_settings: dict[str, Any] | None = None,
    ) -> None:
        self.directory = directory
        self.listen = f"127.0.0.1:{free_port()}"
        self.base = f"http://{self.listen}"
        self.config = directory / "smsgw.toml"
        self.log = directory / "smsgw.log"
        self.mqtt = mqtt
        self.modem_settings = modem_settings or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.configure(modems)

    def configure(self, modems: dict[str, Path]) -> None:
        """(Re)write the config file; a running daemon reads it at its next start."""
        lines = [
            "[database]",
            f'url = "sqlite:///{self.directory / "smsgw.db"}"',
            "[api]",
            f'listen = "{self.listen}"',
            f'key = "{API_KEY}"',
            "[node]",
            'name = "house"',
            "[log]",
            'level = "info"',
            "[mqtt]",
            *(_toml(key, value) for key, value in self.mqtt.items()),
        ]
        for name, link in modems.items():
            lines += ["[[modem]]", f'name = "{name}"', f'port = "{link}"']
            lines += [_toml(key, value) for key, value in self.modem_settings.items()]
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def start(self, within: float = 60.0) -> None:
        env = {**os.environ, "SMSGW_STATE_DIR": str(self.directory / "state")}
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "smsgw", "run", "--config", str(self.config)],
                stdout=sink, stderr=sink, env=env,
            )  # fmt: skip
        wait_until(self._ready, within, "smsgw /health/ready")

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"smsgw run exited: {self.tail()}")
        try:
            return httpx.get(self.base + "/health/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def messages(self) -> list[dict[str, Any]]:
        answer = httpx.get(
            self.base + "/api/v1/messages", headers={"X-API-Key": API_KEY}, timeout=10
        )
        answer.raise_for_status()
        messages: list[dict[str, Any]] = answer.json()["messages"]
        return messages

    def tail(self, size: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-size:] if self.log.is_file() else ""

    def stop(self) -> None:
        _terminate(self.process)


def _toml(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return f"{key} = {'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"{key} = {value}"
    return f'{key} = "{value}"'


def _terminate(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
