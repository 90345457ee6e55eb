"""One HTTP attempt: POST a frozen body, read a bounded answer, never raise for network trouble.

This is the only place httpx is called. Every failure mode becomes data (`Attempt.error`) so
the dispatcher and `smsgw webhook test` share one notion of what happened.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl
import time

import httpx

from smsgw.redact import mask_urls_in
from smsgw.webhook.settings import WebhookSettings
from smsgw.webhook.signing import request_headers


class _MaskUrls(logging.Filter):
    """httpx logs every request with its full URL at INFO (``HTTP Request: POST https://
    user:pass@host/?token=...``): rewrite such records with the URL's secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_urls_in(record.getMessage())
        record.args = None
        return True


def _mask_library_logs() -> None:
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, _MaskUrls) for existing in logger.filters):
            logger.addFilter(_MaskUrls())


_mask_library_logs()


def new_client(url: str = "https:") -> httpx.AsyncClient:
    """The shared, pooled client a dispatcher posts to `url` with; built here because only this
    package imports httpx (the gateway owns its lifetime and closes it with `aclose()`).

    For a plain-HTTP `url` (a webhook on the same host or LAN, common on a Raspberry Pi) the
    client gets a TLS context that trusts no certificate instead of one loaded with the CA
    bundle, which costs about 2.5 MB of resident memory: redirects are not followed, so it
    never makes a TLS connection, and if it ever did, verification would fail, not pass.
    """
    if url.lower().startswith("http:"):
        return httpx.AsyncClient(follow_redirects=False, verify=_trusting_no_one())
    return httpx.AsyncClient(follow_redirects=False)


def _trusting_no_one() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificates, knows no CA


@dataclasses.dataclass(frozen=True, slots=True)
class Attempt:
    """The result of one POST.

    `http_status` is None when no response arrived (`error` says why). `body` holds at most
    `max_response_bytes`; `truncated` says the answer was longer and the rest was not read.
    """

    request_headers: dict[str, str]
    http_status: int | None
    reason_phrase: str
    response_headers: dict[str, str]
    body: bytes
    truncated: bool
    error: str | None
    latency: float

    def describe(self) -> str:
        """A short line for logs and the outbox's `last_error`."""
        if self.http_status is None:
            return self.error or "no response"
        phrase = f" {self.reason_phrase}" if self.reason_phrase else ""
        return f"HTTP {self.http_status}{phrase}"


async def post_event(
    client: httpx.AsyncClient,
    settings: WebhookSettings,
    *,
    body: bytes,
    event_id: str,
    timestamp: int,
) -> Attempt:
    """POST `body` to `settings.url` with the signed headers; the whole attempt is bounded by
    `settings.timeout` (httpx's own timeouts are per phase, a server dripping one byte a
    second would otherwise hold an attempt for ever)."""
    headers = request_headers(
        body=body, event_id=event_id, secret=settings.secret, timestamp=timestamp
    )
    started = time.perf_counter()

    def failed(error: str) -> Attempt:
        return Attempt(headers, None, "", {}, b"", False, error, time.perf_counter() - started)

    try:
        async with asyncio.timeout(settings.timeout):
            request = client.build_request(
                "POST", settings.url, content=body, headers=headers, timeout=settings.timeout
            )
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                content, truncated = await _read_bounded(response, settings.max_response_bytes)
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        return failed(f"timeout after {settings.timeout:g}s")
    except httpx.HTTPError as exc:
        # Some httpx errors quote the URL; the reason is logged and stored in the outbox.
        detail = mask_urls_in(str(exc))
        return failed(f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)
    except httpx.InvalidURL:
        return failed("invalid URL")
    return Attempt(
        request_headers=headers,
        http_status=response.status_code,
        reason_phrase=response.reason_phrase,
        response_headers=dict(response.headers),
        body=content,
        truncated=truncated,
        error=None,
        latency=time.perf_counter() - started,
    )


async def _read_bounded(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        if size + len(chunk) > limit:
            chunks.append(chunk[: limit - size])
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False
