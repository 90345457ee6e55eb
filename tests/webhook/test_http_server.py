"""The test webhook server itself: it must see requests the way a real server does."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from tests.webhook.http_server import Answer, WebhookServer

pytestmark = pytest.mark.timeout(20)


def test_a_request_torn_mid_body_is_not_recorded() -> None:
    """A client killed mid-POST (tests/gateway/test_kill9.py) leaves a truncated body; the
    server drops it, so a test never sees an empty or half JSON document as "received"."""
    with WebhookServer(lambda _r: Answer()) as server:
        host, port = server.url.split("//")[1].split("/")[0].split(":")
        with socket.create_connection((host, int(port))) as client:
            client.sendall(
                b"POST /sms-webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 40\r\n\r\n{"type": "incoming'
            )
            client.shutdown(socket.SHUT_WR)  # the sender is gone
            assert client.recv(1024) == b""  # closed without an answer
        answered = httpx.post(server.url, json={"type": "incoming_sms"}, timeout=5)
        assert answered.status_code == 200
        deadline = time.monotonic() + 5
        while not server.received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [r.json() for r in server.received] == [{"type": "incoming_sms"}]
