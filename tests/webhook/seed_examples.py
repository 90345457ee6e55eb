"""The seed's webhook examples (Flask, Express), cut out of the product page and run unchanged.

Users point servers exactly like these at smsgw, so the tests take each code block from
../shared/seed/sms-gateway-master-two-way.txt at test time (skipping when it is absent), start it
as a real process on a loopback port, and read the literals it answers with from its source.
Every test that talks to a seed example (webhook, gateway, fault runs) uses this one module.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import httpx
import pytest

from smsgw.models import Direction, WebhookEventKind
from smsgw.webhook.dispatcher import WebhookDispatcher, utc_now
from smsgw.webhook.payloads import ConversationTurn, incoming_sms_body
from tests.ports import free_port
from tests.shared_paths import SEED
from tests.webhook.memory_outbox import InMemoryOutbox, StoredEvent
from tests.webhook.settings import fast_settings

SEED_FILE = "sms-gateway-master-two-way.txt"
SENDER = "+40721000000"


def seed_text(seed_dir: Path) -> str:
    """The product page, or a skip when this checkout has no shared/ beside it."""
    seed_file = seed_dir / SEED_FILE
    if not seed_file.is_file():
        pytest.skip(f"{seed_file} not found")
    return seed_file.read_text(encoding="utf-8")


def code_block(
    seed: str, heading: str, first: Callable[[str], bool], last: Callable[[str], bool]
) -> str:
    """The example under `heading`: from the first line `first` accepts to the first `last` does."""
    lines = seed.splitlines()
    start = lines.index(heading) + 1
    while not first(lines[start]):
        start += 1
    end = next(n for n in range(start, len(lines)) if last(lines[n]))
    return "\n".join(lines[start : end + 1]) + "\n"


def seed_block_is_verbatim(source: str) -> bool:
    """The extracted code stands in the product page exactly as cut out."""
    return source.rstrip("\n") in (SEED / SEED_FILE).read_text(encoding="utf-8")


class SeedExample:
    """A running example: where it listens, its source, and its console log."""

    def __init__(self, url: str, source: str, log: Path) -> None:
        self.url = url
        self.source = source
        self.log = log

    def literals(self, pattern: str, what: str) -> list[str]:
        """The string literals the example's source uses where `pattern` matches."""
        found = re.findall(pattern, self.source)
        assert found, f"the example {what}"
        return found

    def logged(self) -> str:
        return self.log.read_text(encoding="utf-8")


def incoming(text: str) -> bytes:
    """An `incoming_sms` from SENDER with one earlier outgoing turn in its history."""
    now = utc_now()
    return incoming_sms_body(
        message_id="seed-1",
        sender=SENDER,
        message=text,
        received_at=now,
        earlier=[
            ConversationTurn(
                Direction.OUT, "Your order #1234 has shipped!", now - datetime.timedelta(minutes=5)
            )
        ],
        history_size=10,
        modem="sim800",
        recipient=None,
    )


async def dispatch_once(
    example: SeedExample,
    client: httpx.AsyncClient,
    body: bytes,
    *,
    secret: str,
    kind: WebhookEventKind = WebhookEventKind.INCOMING_SMS,
) -> StoredEvent:
    """POST one stored event to the example through the real dispatcher; its stored outcome."""
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=SENDER, body=body, created_at=utc_now(), kind=kind)
    await WebhookDispatcher(
        outbox, client, fast_settings(example.url, secret=secret)
    ).dispatch_due()
    return outbox.state_of(entry)


@contextlib.contextmanager
def serving(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], port: int, log: Path, name: str
) -> Iterator[None]:
    """Run `argv` until the block ends; its output goes to `log`."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the seed {name} app did not start:\n{log.read_text()}")
                time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


FLASK_HEADING = "Auto-Responder (Python / Flask)"


def extract_flask_example(seed: str) -> str:
    """The lines after the heading, from the first import through `app.run(...)`."""
    return code_block(
        seed,
        FLASK_HEADING,
        lambda line: line.startswith("from flask import"),
        lambda line: "app.run(" in line,
    )


class FlaskExample(SeedExample):
    @property
    def secret(self) -> str:
        pattern = r"request\.headers\.get\('X-API-Key'\) != '([^']+)'"
        return self.literals(pattern, "checks X-API-Key against a literal")[0]

    @property
    def help_reply(self) -> str:
        return self.literals(r"'sms_text': '([^']+)'", "answers 'help' with a literal")[0]


@pytest.fixture(scope="module")
def flask_example(
    seed_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FlaskExample]:
    source = extract_flask_example(seed_text(seed_dir))
    workdir = tmp_path_factory.mktemp("seed_flask")
    (workdir / "seed_autoresponder.py").write_text(source, encoding="utf-8")
    port = free_port()
    log = workdir / "server.log"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1"}
    env.pop("FLASK_DEBUG", None)
    with serving(
        [sys.executable, "-m", "flask", "--app", "seed_autoresponder", "run",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir, env=env, port=port, log=log, name="Flask",
    ):  # fmt: skip
        yield FlaskExample(f"http://127.0.0.1:{port}/sms-webhook", source, log)
