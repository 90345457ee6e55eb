"""A gateway cluster on one machine: N `smsgw run` processes sharing one PostgreSQL database,
each with its own node name, API port and emulated modems (`EmulatedModem` on real ptys in
this process, so every SMS a modem sent can be counted).

Used by tests/scaleout and bench/scaleout.py. The daemons start at the same moment on the
same database, so every cluster start also exercises concurrent migrations.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import os
import signal
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from smsgw.emulator import DeviceOptions, EmulatedModem
from smsgw.emulator.network import SentMessage
from smsgw.store import open_database
from tests.ports import free_port

API_KEY = "scaleout-test-key-0123456789"
#: Start-up of a daemon on this shared 2-core machine (imports, migrations, modem probing).
START_TIMEOUT = 60.0


@dataclasses.dataclass(frozen=True, slots=True)
class OutgoingRow:
    """One outgoing message as the shared database ends up with it."""

    id: str
    text: str
    status: str
    error: str | None
    modem: str | None
    claimed_by: str | None
    created_at: datetime.datetime
    claimed_at: datetime.datetime | None


@dataclasses.dataclass
class Node:
    name: str
    directory: Path
    port: int
    modems: dict[str, EmulatedModem]
    process: asyncio.subprocess.Process | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / "daemon.log"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@dataclasses.dataclass(frozen=True, slots=True)
class ClusterOptions:
    nodes: int = 2
    modems_per_node: int = 2
    #: The emulated network: seconds per AT+CMGS and until the delivery report.
    cmgs_delay: float = 0.01
    report_delay: float = 0.2
    webhook_url: str = ""
    #: Seconds per webhook POST; a node's lease is never shorter than three of them.
    webhook_timeout: float = 2.0
    heartbeat: float = 0.5
    lease: float = 3.0
    log_level: str = "info"


class Cluster:
    """`async with Cluster(tmp, url, ClusterOptions(...)) as cluster:` — all nodes ready."""

    def __init__(self, directory: Path, database_url: str, options: ClusterOptions) -> None:
        self.directory = directory
        self.database_url = database_url
        self.options = options
        self.nodes: list[Node] = []
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> Cluster:
        await self._stack.__aenter__()
        try:
            await self._start()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.stop_all()
        finally:
            await self._stack.__aexit__(None, None, None)

    async def _start(self) -> None:
        device = DeviceOptions(
            boot_scale=0.0,
            cmgs_delay=self.options.cmgs_delay,
            report_delay=self.options.report_delay,
        )
        for n in range(self.options.nodes):
            name = f"node{n}"
            directory = self.directory / name
            directory.mkdir(parents=True, exist_ok=True)
            modems: dict[str, EmulatedModem] = {}
            for m in range(self.options.modems_per_node):
                modem_name = f"n{n}m{m}"
                modems[modem_name] = await self._stack.enter_async_context(
                    EmulatedModem("sim800", directory / modem_name, options=device)
                )
            node = Node(name, directory, free_port(), modems)
            self._write_config(node)
            self.nodes.append(node)
        # All at once: the daemons race each other through the migrations.
        await asyncio.gather(*(self.start(node) for node in self.nodes))

    def _write_config(self, node: Node) -> None:
        modems = "".join(
            f'[[modem]]\nname = "{name}"\nport = "{node.directory / name}"\n\n'
            for name in node.modems
        )
        (node.directory / "smsgw.toml").write_text(
            f"""
[database]
url = "{self.database_url}"
[api]
listen = "127.0.0.1:{node.port}"
key = "{API_KEY}"
[webhook]
url = "{self.options.webhook_url}"
timeout = {self.options.webhook_timeout}
backoff_initial = "0.2s"
backoff_max = "1s"
[node]
name = "{node.name}"
heartbeat_interval = {self.options.heartbeat}
lease = {self.options.lease}
[log]
level = "{self.options.log_level}"

{modems}""",
            encoding="utf-8",
        )

    async def start(self, node: Node) -> None:
        """Spawn `smsgw run` for `node` and wait until its API says it is ready."""
        env = {**os.environ, "SMSGW_STATE_DIR": str(node.directory / "state")}
        config = str(node.directory / "smsgw.toml")
        with node.log.open("ab") as sink:
            node.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "smsgw", "run", "--config", config,
                stdout=sink, stderr=sink, env=env,
            )  # fmt: skip
        await self.wait_ready(node)

    async def wait_ready(self, node: Node) -> None:
        async with httpx.AsyncClient(timeout=2.0) as client:
            try:
                async with asyncio.timeout(START_TIMEOUT):
                    while True:
                        if not node.alive:
                            raise AssertionError(f"{node.name} exited:\n{node.log_tail()}")
                        with contextlib.suppress(httpx.HTTPError):
                            answer = await client.get(f"{node.api}/health/ready")
                            if answer.status_code == 200 and await self._all_ready(client, node):
                                return
                        await asyncio.sleep(0.1)
            except TimeoutError:
                raise AssertionError(f"{node.name} not ready:\n{node.log_tail()}") from None

    async def _all_ready(self, client: httpx.AsyncClient, node: Node) -> bool:
        answer = await client.get(f"{node.api}/api/v1/modems", headers={"X-API-Key": API_KEY})
        listed = answer.json()["modems"]
        states = {m["name"]: m["state"] for m in listed if m["name"] in node.modems}
        return len(states) == len(node.modems) and set(states.values()) == {"ready"}

    def kill(self, node: Node) -> None:
        """`kill -9`: no graceful stop, its claims stay behind in the database."""
        assert node.process is not None
        node.process.send_signal(signal.SIGKILL)

    async def stop(self, node: Node) -> int | None:
        process = node.process
        if process is None:
            return None
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(30):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        return process.returncode

    async def stop_all(self) -> dict[str, int | None]:
        codes = await asyncio.gather(*(self.stop(node) for node in self.nodes))
        return {node.name: code for node, code in zip(self.nodes, codes, strict=True)}

    def node_of(self, modem: str | None) -> str | None:
        """The node owning `modem` (the node that claimed a message bound to it)."""
        for node in self.nodes:
            if modem in node.modems:
                return node.name
        return None

    @property
    def modems(self) -> dict[str, EmulatedModem]:
        return {name: modem for node in self.nodes for name, modem in node.modems.items()}

    def sent(self) -> list[SentMessage]:
        """Every SMS any emulated modem sent."""
        return [message for modem in self.modems.values() for message in modem.sent()]

    async def outgoing(self) -> list[OutgoingRow]:
        """Every outgoing message in the shared database, with the moment it was claimed."""
        db = open_database(self.database_url)
        try:
            async with db.transaction("test: read outgoing") as connection:
                rows = (
                    await connection.execute(
                        sa.text(
                            "SELECT m.id, m.text, m.status, m.error, m.modem, m.claimed_by,"
                            " m.created_at, (SELECT min(e.at) FROM status_events e"
                            "  WHERE e.message_pk = m.pk AND e.status = 'sending') AS claimed_at"
                            " FROM messages m WHERE m.direction = 'out' ORDER BY m.pk"
                        )
                    )
                ).all()
        finally:
            await db.close()
        return [OutgoingRow(*row) for row in rows]

    async def wait_settled(self, within: float) -> list[OutgoingRow]:
        """Wait until no outgoing message is queued or being sent; the final rows."""
        rows: list[OutgoingRow] = []
        try:
            async with asyncio.timeout(within):
                while True:
                    rows = await self.outgoing()
                    if not [r for r in rows if r.status in ("queued", "sending")]:
                        return rows
                    await asyncio.sleep(0.25)
        except TimeoutError:
            pending = [(r.id, r.status, r.modem, r.claimed_by) for r in rows if r.status in
                       ("queued", "sending")]  # fmt: skip
            logs = "\n".join(f"--- {n.name}\n{n.log_tail(1500)}" for n in self.nodes)
            raise AssertionError(f"{len(pending)} still pending: {pending[:10]}\n{logs}") from None


async def send_many(
    nodes: Sequence[Node],
    texts: Iterable[str],
    *,
    to: str = "+40722000000",
    concurrency: int = 16,
) -> dict[str, str]:
    """POST each text (unique: it is also the idempotency key) to the API of the nodes in
    turn, skipping dead ones; returns id -> text."""
    accepted: dict[str, str] = {}
    limiter = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        timeout=30.0, headers={"X-API-Key": API_KEY}, limits=httpx.Limits(max_connections=64)
    ) as client:

        async def one(index: int, text: str) -> None:
            async with limiter:
                for attempt in range(len(nodes)):
                    node = nodes[(index + attempt) % len(nodes)]
                    if not node.alive:
                        continue
                    try:
                        # The key makes a retry on another node (after a kill cut the
                        # answer off) return the message the dead node may have queued.
                        answer = await client.post(
                            f"{node.api}/api/v1/messages",
                            json={"to": to, "text": text},
                            headers={"Idempotency-Key": f"scaleout:{text}"},
                        )
                    except httpx.TransportError:
                        continue  # killed under us: the next node takes the request
                    assert answer.status_code == 202, answer.text
                    document: dict[str, Any] = answer.json()
                    accepted[str(document["id"])] = text
                    return
                raise AssertionError(f"no node accepted {text!r}")

        await asyncio.gather(*(one(index, text) for index, text in enumerate(texts)))
    return accepted
