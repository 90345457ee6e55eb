"""The dispatcher's client: a plain-HTTP webhook gets a TLS context that trusts nothing (it
skips loading the CA bundle, memory a Raspberry Pi keeps), never one that skips checks."""

from __future__ import annotations

import ssl

import httpx
import pytest

from smsgw.webhook.transport import new_client


def _tls_context(client: httpx.AsyncClient) -> ssl.SSLContext:
    context = client._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert isinstance(context, ssl.SSLContext)
    return context


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "HTTP://hooks.lan/sms"])
async def test_a_plain_http_webhook_client_verifies_against_no_ca(url: str) -> None:
    async with new_client(url) as client:
        context = _tls_context(client)
        assert context.verify_mode is ssl.CERT_REQUIRED
        assert context.check_hostname
        assert context.get_ca_certs() == []


async def test_an_https_webhook_client_verifies_against_the_ca_bundle() -> None:
    async with new_client("https://hooks.example.com/sms") as client:
        context = _tls_context(client)
        assert context.verify_mode is ssl.CERT_REQUIRED
        assert context.check_hostname
        assert len(context.get_ca_certs()) > 10
