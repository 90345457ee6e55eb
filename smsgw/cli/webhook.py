"""`smsgw webhook test [URL]`: check a webhook server before pointing real traffic at it.

Posts one sample `incoming_sms` with exactly the headers the daemon sends (same signing, same
timeout), prints the request and the answer, and says what the gateway would do with it:
send the reply, send nothing, drop the event (410) or retry it. Exit 0 only when the webhook
accepted the event (2xx), so it also works as a deployment check.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from smsgw.cli.common import EXIT_FAILED, EXIT_USAGE, fail
from smsgw.cli.config import ConfigOption, load_or_exit
from smsgw.exceptions import ConfigError
from smsgw.gateway.settings import webhook_settings
from smsgw.redact import mask_url
from smsgw.webhook.probe import ProbeResult, probe
from smsgw.webhook.retry import Outcome
from smsgw.webhook.settings import WebhookSettings

app = typer.Typer(no_args_is_help=True)

_MASKED_HEADERS = {"x-api-key"}
_BODY_PREVIEW = 2000


@app.callback()
def _group() -> None:
    """Webhook tools (the webhook receives every incoming SMS and delivery status)."""


@app.command("test")
def webhook_test(
    url: Annotated[
        str | None, typer.Argument(help="Webhook URL (default: webhook.url from the config).")
    ] = None,
    config: ConfigOption = None,
    secret: Annotated[
        str | None, typer.Option("--secret", help="Override webhook.secret (X-API-Key, HMAC).")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Override webhook.timeout (seconds).")
    ] = None,
    message: Annotated[str, typer.Option("--message", help="Text of the sample SMS.")] = "help",
    sender: Annotated[str, typer.Option("--sender", help="Sender of the sample SMS.")] = (
        "+40721000000"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """POST a sample incoming_sms with the configured headers and explain the answer."""
    settings = _settings(url, config, secret, timeout)
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger("httpx").setLevel(logging.WARNING)  # we print the exchange ourselves
    result = asyncio.run(probe(settings, sender=sender, message=message))
    if as_json:
        print(json.dumps(_as_json(settings, result), ensure_ascii=False, indent=2))
    else:
        _print_human(settings, result)
    if result.outcome is not Outcome.DELIVERED:
        raise typer.Exit(EXIT_FAILED)


def _settings(
    url: str | None, config: Path | None, secret: str | None, timeout: float | None
) -> WebhookSettings:
    section = load_or_exit(config).webhook
    target = url if url is not None else section.url
    if not target:
        fail("no webhook URL: pass one, or set webhook.url in the configuration", EXIT_USAGE)
    try:
        base = webhook_settings(section.model_copy(update={"url": target}))
        return dataclasses.replace(
            base,
            secret=base.secret if secret is None else secret,
            timeout=base.timeout if timeout is None else timeout,
        )
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)


def _shown_headers(headers: dict[str, str]) -> dict[str, str]:
    return {
        name: ("********" if name.lower() in _MASKED_HEADERS else value)
        for name, value in headers.items()
    }


def _text(body: bytes) -> str:
    text = body[:_BODY_PREVIEW].decode("utf-8", "replace").rstrip("\r\n")
    return text + (f"... ({len(body)} bytes)" if len(body) > _BODY_PREVIEW else "")


def _as_json(settings: WebhookSettings, result: ProbeResult) -> dict[str, Any]:
    attempt = result.attempt
    return {
        "request": {
            "url": mask_url(settings.url),
            "headers": _shown_headers(attempt.request_headers),
            "body": json.loads(result.body),
        },
        "response": None
        if attempt.http_status is None
        else {
            "status": attempt.http_status,
            "headers": attempt.response_headers,
            "body": _text(attempt.body),
            "truncated": attempt.truncated,
            "latency_ms": round(attempt.latency * 1000, 1),
        },
        "error": attempt.error,
        "outcome": result.outcome.value,
        "reply": result.decision.text if result.decision else None,
        "verdict": result.verdict,
    }


def _print_human(settings: WebhookSettings, result: ProbeResult) -> None:
    attempt = result.attempt
    print(f"POST {mask_url(settings.url)}")
    for name, value in _shown_headers(attempt.request_headers).items():
        print(f"> {name}: {value}")
    print(f"> {_text(result.body)}")
    if attempt.http_status is None:
        print(f"! no response: {attempt.error} (after {attempt.latency * 1000:.0f} ms)")
    else:
        print(f"< {attempt.describe()} ({attempt.latency * 1000:.0f} ms)")
        for name, value in attempt.response_headers.items():
            print(f"< {name}: {value}")
        if attempt.body:
            print(f"< {_text(attempt.body)}")
    stream = sys.stdout if result.outcome is Outcome.DELIVERED else sys.stderr
    print(f"=> {result.verdict}", file=stream)
