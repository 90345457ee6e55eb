"""`smsgw.webhook.verify` as a user's Flask server would call it, over real HTTP.

The README tells users to check `X-Signature` with this helper; this proves the documented
two lines work with Flask's own header object and raw body, and reject a forged request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from flask import Flask, request
from werkzeug.serving import make_server

from smsgw.webhook import WebhookDispatcher, utc_now, verify
from tests.webhook.memory_outbox import InMemoryOutbox
from tests.webhook.settings import SECRET, fast_settings
from tests.webhook.test_dispatcher import PEER, incoming

pytestmark = pytest.mark.timeout(30)


def make_app() -> Flask:
    app = Flask("verifying_webhook")

    @app.post("/sms-webhook")
    def sms_webhook() -> tuple[str, int]:
        if not verify(SECRET, request.headers, request.get_data()):
            return "bad signature", 401
        return '{"sms_text": "verified"}', 200

    return app


@pytest.fixture
def verifying_server() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, make_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/sms-webhook"
    finally:
        server.shutdown()
        thread.join(timeout=5)


async def test_signed_events_pass_verify_in_flask(
    verifying_server: str, client: httpx.AsyncClient
) -> None:
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=PEER, body=incoming("help"), created_at=utc_now())
    await WebhookDispatcher(outbox, client, fast_settings(verifying_server)).dispatch_due()
    assert outbox.state_of(entry).reply_text == "verified"


async def test_a_forged_request_is_rejected(
    verifying_server: str, client: httpx.AsyncClient
) -> None:
    outbox = InMemoryOutbox()
    entry = outbox.add(peer=PEER, body=incoming("help"), created_at=utc_now())
    forger = fast_settings(verifying_server, secret="guessed-" + SECRET)
    await WebhookDispatcher(outbox, client, forger).dispatch_due()
    assert outbox.state_of(entry).errors == ["HTTP 401 UNAUTHORIZED"]
