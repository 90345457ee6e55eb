"""A real Mosquitto broker on a free loopback port, for the Home Assistant end-to-end test.

Debian's `mosquitto` (installed by `.ci/run`) runs as a child process with a config file of its
own in a temporary directory: anonymous clients, no persistence, so every test starts from an
empty broker and nothing it does can reach a system-wide broker.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.ports import free_port

#: Debian installs the broker in sbin, which is not on every user's PATH.
_SEARCH_PATH = "/usr/sbin:/usr/local/sbin:/usr/bin:/usr/local/bin"


def mosquitto_binary(name: str = "mosquitto") -> str | None:
    return shutil.which(name) or shutil.which(name, path=_SEARCH_PATH)


def _client(name: str) -> str:
    binary = mosquitto_binary(name)
    if binary is None:
        raise RuntimeError(f"{name} is not installed (Debian: apt-get install mosquitto-clients)")
    return binary


class Mosquitto:
    """One broker process; `url` is what smsgw's `[mqtt] url` and Home Assistant point at."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.log = directory / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, within: float = 10.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            f"log_dest file {self.log}\n"
            "log_type error\nlog_type warning\nlog_type notice\n",
            encoding="utf-8",
        )
        self.process = subprocess.Popen(
            [self.binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                assert self.process.stderr is not None
                raise RuntimeError(f"mosquitto exited: {self.process.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            except OSError:
                time.sleep(0.05)
                continue
            return
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {within}s")

    def publish(self, topic: str, payload: str, *, retain: bool = False) -> None:
        """One QoS 1 message through Debian's `mosquitto_pub`, as a third-party client."""
        command = [_client("mosquitto_pub"), "-p", str(self.port), "-q", "1", "-t", topic]
        if retain:
            command.append("-r")
        command += ["-n"] if payload == "" else ["-m", payload]
        subprocess.run(command, check=True, timeout=10)

    def subscribe(self, topic: str) -> subprocess.Popen[str]:
        """`mosquitto_sub` printing each payload on a line; the caller reads and stops it."""
        process = subprocess.Popen(
            [_client("mosquitto_sub"), "-p", str(self.port), "-q", "1", "-t", topic],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        # The subscription is live once the broker has logged it; a short pause is enough on
        # loopback and keeps the helper free of a second protocol implementation.
        time.sleep(0.5)
        return process

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
