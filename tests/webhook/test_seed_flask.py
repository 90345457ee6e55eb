"""The seed's Python/Flask auto-responder, run UNCHANGED, as the webhook server.

Users will point servers exactly like this one at smsgw, so the code block is extracted from
../shared/seed/sms-gateway-master-two-way.txt at test time (skipped when absent) and served by
Flask's own development server on a free loopback port.
"""

from __future__ import annotations

import httpx
import pytest

from smsgw.models import MessageStatus, WebhookEventKind
from smsgw.webhook.dispatcher import utc_now
from smsgw.webhook.payloads import sms_status_body
from tests.webhook.seed_examples import (
    SENDER,
    FlaskExample,
    dispatch_once,
    incoming,
    seed_block_is_verbatim,
)

pytestmark = pytest.mark.timeout(60)


def test_the_extracted_example_is_the_seed_code_verbatim(flask_example: FlaskExample) -> None:
    source = flask_example.source
    assert seed_block_is_verbatim(source)
    assert "@app.route('/sms-webhook', methods=['POST'])" in source
    compile(source, "seed_autoresponder.py", "exec")


async def test_help_gets_the_examples_auto_reply(
    flask_example: FlaskExample, client: httpx.AsyncClient
) -> None:
    stored = await dispatch_once(
        flask_example, client, incoming("Hi, I need help"), secret=flask_example.secret
    )
    assert (stored.state, stored.http_status) == ("delivered", 200)
    assert stored.reply_text == flask_example.help_reply
    assert stored.reply_text.startswith("Support hours")
    # The example read our payload: sender, message and the 2-entry history.
    assert f"SMS from {SENDER}: Hi, I need help (history: 2 msgs)" in flask_example.logged()


async def test_other_text_gets_an_empty_200_and_no_reply(
    flask_example: FlaskExample, client: httpx.AsyncClient
) -> None:
    stored = await dispatch_once(
        flask_example, client, incoming("thanks, bye"), secret=flask_example.secret
    )
    assert (stored.state, stored.http_status, stored.reply_text) == ("delivered", 200, None)


async def test_status_events_reach_the_same_endpoint(
    flask_example: FlaskExample, client: httpx.AsyncClient
) -> None:
    body = sms_status_body(
        sms_id="sms-77", status=MessageStatus.DELIVERED, recipient=SENDER, at=utc_now(), parts=1
    )
    stored = await dispatch_once(
        flask_example, client, body, secret=flask_example.secret, kind=WebhookEventKind.SMS_STATUS
    )
    assert stored.state == "delivered"
    assert "SMS sms-77 → delivered" in flask_example.logged()


async def test_a_wrong_secret_gets_401_and_the_event_is_kept_for_retry(
    flask_example: FlaskExample, client: httpx.AsyncClient
) -> None:
    stored = await dispatch_once(
        flask_example, client, incoming("help"), secret="not-" + flask_example.secret
    )
    assert stored.state == "pending"
    assert stored.errors == ["HTTP 401 UNAUTHORIZED"]
