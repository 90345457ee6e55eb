"""The seed's Node.js/Express auto-responder, run UNCHANGED, as the webhook server.

Users will point servers exactly like this one at smsgw, so the code block is extracted from
../shared/seed/sms-gateway-master-two-way.txt at test time (skipped when absent) and run with
`node`. Express comes from the npm registry: .ci/run installs it under
$SMSGW_TEST_NODE_PREFIX (default ~/.cache/smsgw-node), found here through NODE_PATH.

The example hard-codes `app.listen(3000, ...)`. Rather than edit the user's code, a preload
(`node -r`) wraps `http.Server.prototype.listen` so a numeric port becomes a free port on
127.0.0.1; the example's handler, its checks and its replies run exactly as written. (Its own
startup line still says ":3000".)
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from smsgw.models import MessageStatus, WebhookEventKind
from smsgw.webhook.dispatcher import WebhookDispatcher, utc_now
from smsgw.webhook.payloads import sms_status_body
from tests.ports import free_port
from tests.webhook.memory_outbox import InMemoryOutbox, StoredEvent
from tests.webhook.seed_examples import (
    SENDER,
    SeedExample,
    code_block,
    dispatch_once,
    incoming,
    seed_block_is_verbatim,
    seed_text,
    serving,
)
from tests.webhook.settings import fast_settings

pytestmark = pytest.mark.timeout(60)

HEADING = "Auto-Responder (Node.js / Express)"
NODE_PREFIX = Path(
    os.environ.get("SMSGW_TEST_NODE_PREFIX", Path.home() / ".cache" / "smsgw-node")
).expanduser()
NODE_MODULES = NODE_PREFIX / "node_modules"

# Loaded with `node -r` before the example: only the port (and loopback host) change.
PORT_PRELOAD = """\
'use strict';
const http = require('http');
const port = Number(process.env.SMSGW_SEED_PORT);
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number') {
    args[0] = port;
    if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
"""


def extract_express_example(seed: str) -> str:
    """The lines after the heading, from `require('express')` through `app.listen(...)`."""
    return code_block(
        seed,
        HEADING,
        lambda line: "require('express')" in line,
        lambda line: line.startswith("app.listen("),
    )


class ExpressExample(SeedExample):
    @property
    def secret(self) -> str:
        pattern = r"req\.headers\['x-api-key'\] !== '([^']+)'"
        return self.literals(pattern, "checks x-api-key against a literal")[0]

    def _replies(self) -> list[str]:
        replies = self.literals(r"sms_text: '([^']+)'", "answers with literal sms_text")
        assert len(replies) == 2, "the example answers 'help' and 'urgent' with literals"
        return replies

    @property
    def help_reply(self) -> str:
        return self._replies()[0]

    @property
    def urgent_reply(self) -> str:
        return self._replies()[1]


@pytest.fixture(scope="module")
def express_example(
    seed_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExpressExample]:
    seed = seed_text(seed_dir)
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not found on PATH (.ci/run installs Debian's nodejs)")
    if not (NODE_MODULES / "express" / "package.json").is_file():
        pytest.skip(
            f"express not installed under {NODE_MODULES} (.ci/run runs "
            f'`npm install --prefix "{NODE_PREFIX}" express@4`)'
        )
    source = extract_express_example(seed)
    workdir = tmp_path_factory.mktemp("seed_express")
    (workdir / "seed_autoresponder.js").write_text(source, encoding="utf-8")
    (workdir / "port_preload.js").write_text(PORT_PRELOAD, encoding="utf-8")
    port = free_port()
    log = workdir / "server.log"
    env = {
        **os.environ,
        "NODE_PATH": str(NODE_MODULES),
        "NODE_ENV": "production",
        "SMSGW_SEED_PORT": str(port),
    }
    with serving(
        [node, "-r", "./port_preload.js", "seed_autoresponder.js"],
        cwd=workdir, env=env, port=port, log=log, name="Express",
    ):  # fmt: skip
        yield ExpressExample(f"http://127.0.0.1:{port}/sms-webhook", source, log)


def test_the_extracted_example_is_the_seed_code_verbatim(
    express_example: ExpressExample,
) -> None:
    source = express_example.source
    assert seed_block_is_verbatim(source)
    assert "app.post('/sms-webhook'" in source
    assert source.rstrip("\n").endswith(
        "app.listen(3000, () => console.log('Webhook server running on :3000'));"
    )


async def _dispatch_text(
    example: ExpressExample, client: httpx.AsyncClient, text: str
) -> StoredEvent:
    return await dispatch_once(example, client, incoming(text), secret=example.secret)


async def test_help_gets_the_examples_auto_reply(
    express_example: ExpressExample, client: httpx.AsyncClient
) -> None:
    stored = await _dispatch_text(express_example, client, "Hi, I need help")
    assert (stored.state, stored.http_status) == ("delivered", 200)
    assert stored.reply_text == express_example.help_reply
    assert stored.reply_text.startswith("Support hours")
    # The example destructured our payload's sender and message.
    assert f"SMS from {SENDER}: Hi, I need help" in express_example.logged()


async def test_urgent_gets_the_callback_reply(
    express_example: ExpressExample, client: httpx.AsyncClient
) -> None:
    stored = await _dispatch_text(express_example, client, "URGENT: my order is late")
    assert (stored.state, stored.http_status) == ("delivered", 200)
    assert stored.reply_text == express_example.urgent_reply
    assert stored.reply_text.startswith("An agent will contact you")


async def test_other_text_gets_an_empty_200_and_no_reply(
    express_example: ExpressExample, client: httpx.AsyncClient
) -> None:
    stored = await _dispatch_text(express_example, client, "thanks, bye")
    assert (stored.state, stored.http_status, stored.reply_text) == ("delivered", 200, None)
    assert f"SMS from {SENDER}: thanks, bye" in express_example.logged()


async def test_status_events_get_200_and_no_reply(
    express_example: ExpressExample, client: httpx.AsyncClient
) -> None:
    body = sms_status_body(
        sms_id="sms-88", status=MessageStatus.DELIVERED, recipient=SENDER, at=utc_now(), parts=1
    )
    stored = await dispatch_once(
        express_example,
        client,
        body,
        secret=express_example.secret,
        kind=WebhookEventKind.SMS_STATUS,
    )
    assert (stored.state, stored.http_status, stored.reply_text) == ("delivered", 200, None)
    # The example read our camelCase `smsId` and `status`.
    assert "SMS sms-88 → delivered" in express_example.logged()


async def test_a_wrong_secret_gets_401_and_is_retried_until_the_secret_is_right(
    express_example: ExpressExample, client: httpx.AsyncClient
) -> None:
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=SENDER, body=incoming("help"), created_at=utc_now())
    wrong = fast_settings(express_example.url, secret="not-" + express_example.secret)

    async def attempt_when_due(dispatcher: WebhookDispatcher) -> None:
        delay = (outbox.state_of(entry).next_attempt_at - utc_now()).total_seconds()
        await asyncio.sleep(max(delay, 0.0))
        assert await dispatcher.dispatch_due() == 1

    await attempt_when_due(WebhookDispatcher(outbox, client, wrong))
    await attempt_when_due(WebhookDispatcher(outbox, client, wrong))
    stored = outbox.state_of(entry)
    assert stored.state == "pending"
    assert stored.errors == ["HTTP 401 Unauthorized"] * 2

    right = fast_settings(express_example.url, secret=express_example.secret)
    await attempt_when_due(WebhookDispatcher(outbox, client, right))
    stored = outbox.state_of(entry)
    assert (stored.state, stored.http_status) == ("delivered", 200)
    assert stored.reply_text == express_example.help_reply
