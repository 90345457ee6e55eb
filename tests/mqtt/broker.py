"""A real Mosquitto broker for the tests: its own config, port, password file and TLS
certificate in the test's directory (Debian's `mosquitto` package; the system service, if
any, is never used). Tests skip with a reason when the binary is missing."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from tests.ports import free_port

MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd")
OPENSSL = shutil.which("openssl")

needs_mosquitto = pytest.mark.skipif(
    MOSQUITTO is None, reason="mosquitto is not installed (apt-get install mosquitto)"
)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """(certificate, key) for localhost and 127.0.0.1; the certificate is its own CA."""
    if OPENSSL is None:
        pytest.skip("openssl is not installed: no certificate for the TLS broker")
    cert, key = directory / "broker.crt", directory / "broker.key"
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class Broker:
    """`mosquitto -c <conf>` on a free loopback port; `stop`/`start` keep the port and the
    persistence file (a restart, as an outage would be); `kill` is SIGKILL."""

    def __init__(
        self,
        directory: Path,
        *,
        users: Mapping[str, str] | None = None,
        tls: bool = False,
    ) -> None:
        if MOSQUITTO is None:
            pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.tls = tls
        self.users = dict(users or {})
        self.ca_file: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        lines = [
            f"listener {self.port} 127.0.0.1",
            "user root",  # keep reading the test's files (mosquitto drops to 'mosquitto')
            "persistence true",
            f"persistence_location {directory}/",
            f"log_dest file {directory / 'mosquitto.log'}",
            "log_type all",
            "max_queued_messages 100000",
        ]
        if self.users:
            if MOSQUITTO_PASSWD is None:
                pytest.skip("mosquitto_passwd is not installed")
            password_file = directory / "passwords"
            password_file.touch()
            for user, password in self.users.items():
                subprocess.run(
                    [MOSQUITTO_PASSWD, "-b", str(password_file), user, password],
                    check=True, capture_output=True,
                )  # fmt: skip
            lines += ["allow_anonymous false", f"password_file {password_file}"]
        else:
            lines.append("allow_anonymous true")
        if tls:
            cert, key = self_signed_certificate(directory)
            self.ca_file = cert
            lines += [f"certfile {cert}", f"keyfile {key}"]
        self.config = directory / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")

    def url(self, user: str | None = None, password: str | None = None) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        host = "localhost" if self.tls else "127.0.0.1"
        auth = "" if user is None else f"{user}:{password}@" if password is not None else f"{user}@"
        return f"{scheme}://{auth}{host}:{self.port}"

    def mqtt_section(self, **extra: Any) -> dict[str, Any]:
        section: dict[str, Any] = {"url": self.url()}
        if self.ca_file is not None:
            section["ca_file"] = str(self.ca_file)
        return {**section, **extra}

    def start(self) -> None:
        assert MOSQUITTO is not None
        self._process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log()[-2000:]}")
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not listen within 10 s")

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its persistence file and closes every connection."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None

    def log(self) -> str:
        path = self.directory / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def running_broker(directory: Path, **options: Any) -> Iterator[Broker]:
    broker = Broker(directory, **options)
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()


def client(broker: Broker, *, identifier: str | None = None, **options: Any) -> aiomqtt.Client:
    """A test-side client of `broker` (TLS trusting its certificate)."""
    import ssl

    tls = None
    if broker.ca_file is not None:
        tls = ssl.create_default_context(cafile=str(broker.ca_file))
    host = "localhost" if broker.tls else "127.0.0.1"
    return aiomqtt.Client(host, broker.port, identifier=identifier, tls_context=tls, **options)


class Collector:
    """Subscribes and keeps every message (topic, payload, retain), in a background task."""

    def __init__(self, broker: Broker, *topics: str, **options: Any) -> None:
        self.broker = broker
        self.topics = topics
        self.options = options
        self.messages: list[tuple[str, bytes, bool]] = []
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        async with client(self.broker, **self.options) as subscriber:
            for topic in self.topics:
                await subscriber.subscribe(topic, qos=1)
            self._ready.set()
            async for message in subscriber.messages:
                payload = message.payload if isinstance(message.payload, bytes) else b""
                self.messages.append((str(message.topic), payload, bool(message.retain)))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Collector]:
        self._task = asyncio.create_task(self._run())
        try:
            async with asyncio.timeout(10):
                await self._ready.wait()
            yield self
        finally:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def on(self, topic: str) -> list[bytes]:
        return [payload for name, payload, _ in self.messages if name == topic]
