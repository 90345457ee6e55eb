"""The seed's Python/Flask auto-responder, run UNCHANGED, as the webhook server.

Users will point servers exactly like this one at smsgw, so the code block is extracted from
../shared/seed/sms-gateway-master-two-way.txt at test time (skipped when absent) and served by
Flask's own development server on a free loopback port.
"""

from __future__ import annotations

import datetime
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from smsgw.models import Direction, MessageStatus, WebhookEventKind
from smsgw.webhook.dispatcher import WebhookDispatcher, utc_now
from smsgw.webhook.payloads import ConversationTurn, incoming_sms_body, sms_status_body
from tests.conftest import SEED
from tests.ports import free_port
from tests.webhook.conftest import fast_settings
from tests.webhook.memory_outbox import InMemoryOutbox
from tests.webhook.seed_server import serving

pytestmark = pytest.mark.timeout(60)

SEED_FILE = "sms-gateway-master-two-way.txt"
HEADING = "Auto-Responder (Python / Flask)"
SENDER = "+40721000000"


def extract_flask_example(seed: str) -> str:
    """The lines after the heading, from the first import through `app.run(...)`."""
    lines = seed.splitlines()
    start = lines.index(HEADING) + 1
    while not lines[start].startswith("from flask import"):
        start += 1
    end = next(n for n in range(start, len(lines)) if "app.run(" in lines[n])
    return "\n".join(lines[start : end + 1]) + "\n"


class FlaskExample:
    def __init__(self, url: str, source: str, log: Path) -> None:
        self.url = url
        self.source = source
        self.log = log

    @property
    def secret(self) -> str:
        match = re.search(r"request\.headers\.get\('X-API-Key'\) != '([^']+)'", self.source)
        assert match, "the example checks X-API-Key against a literal"
        return match.group(1)

    @property
    def help_reply(self) -> str:
        match = re.search(r"'sms_text': '([^']+)'", self.source)
        assert match, "the example answers 'help' with a literal sms_text"
        return match.group(1)


@pytest.fixture(scope="module")
def flask_example(
    seed_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FlaskExample]:
    seed_file = seed_dir / SEED_FILE
    if not seed_file.is_file():
        pytest.skip(f"{seed_file} not found")
    source = extract_flask_example(seed_file.read_text(encoding="utf-8"))
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


def test_the_extracted_example_is_the_seed_code_verbatim(flask_example: FlaskExample) -> None:
    seed = (SEED / SEED_FILE).read_text(encoding="utf-8")
    source = flask_example.source
    assert source.rstrip("\n") in seed
    assert "@app.route('/sms-webhook', methods=['POST'])" in source
    compile(source, "seed_autoresponder.py", "exec")


def incoming(text: str) -> bytes:
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


async def test_help_gets_the_examples_auto_reply(
    flask_example: FlaskExample, client: httpx.AsyncClient
) -> None:
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=SENDER, body=incoming("Hi, I need help"), created_at=utc_now())
    settings = fast_settings(flask_example.url, secret=flask_example.secret)
    await WebhookDispatcher(outbox, client, settings).dispatch_due()
    stored = outbox.state_of(entry)
    assert (stored.state, stored.http_status) == ("delivered", 200)
    assert stored.reply_text == flask_example.help_reply
    assert stored.reply_text.startswith("Support hours")
    # The example read our payload: sender, message and the 2-entry history.
    assert f"SMS from {SENDER}: Hi, I need help (history: 2 msgs)" in flask_example.log.read_text(
        encoding="utf-8"
    )


async def test_other_text_gets_an_empty_200_and_no_reply(
    flask_example: FlaskExample, client: httpx.AsyncClient
) -> None:
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=SENDER, body=incoming("thanks, bye"), created_at=utc_now())
    settings = fast_settings(flask_example.url, secret=flask_example.secret)
    await WebhookDispatcher(outbox, client, settings).dispatch_due()
    stored = outbox.state_of(entry)
    assert (stored.state, stored.http_status, stored.reply_text) == ("delivered", 200, None)


async def test_status_events_reach_the_same_endpoint(
    flask_example: FlaskExample, client: httpx.AsyncClient
) -> None:
    outbox = InMemoryOutbox()
    body = sms_status_body(
        sms_id="sms-77", status=MessageStatus.DELIVERED, recipient=SENDER, at=utc_now(), parts=1
    )
    entry = outbox.add(
        peer=SENDER, body=body, created_at=utc_now(), kind=WebhookEventKind.SMS_STATUS
    )
    settings = fast_settings(flask_example.url, secret=flask_example.secret)
    await WebhookDispatcher(outbox, client, settings).dispatch_due()
    assert outbox.state_of(entry).state == "delivered"
    assert "SMS sms-77 → delivered" in flask_example.log.read_text(encoding="utf-8")


async def test_a_wrong_secret_gets_401_and_the_event_is_kept_for_retry(
    flask_example: FlaskExample, client: httpx.AsyncClient
) -> None:
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=SENDER, body=incoming("help"), created_at=utc_now())
    settings = fast_settings(flask_example.url, secret="not-" + flask_example.secret)
    await WebhookDispatcher(outbox, client, settings).dispatch_due()
    stored = outbox.state_of(entry)
    assert stored.state == "pending"
    assert stored.errors == ["HTTP 401 UNAUTHORIZED"]
