"""What the demo prints once the scripted conversation worked: how to try every part by hand
(the web inbox, sending, receiving, the history, the webhook check), then each webhook event
as it arrives."""

from __future__ import annotations

import asyncio
import json
import shlex
import shutil
import sys
from pathlib import Path

from rich.console import Console

from smsgw.cli.demo_webhook import DemoWebhook, ReceivedEvent

__all__ = ["follow", "try_it_lines"]


def try_it_lines(
    *,
    directory: Path,
    modem: str,
    customer: str,
    api_url: str,
    api_key: str,
    webhook_url: str,
    webhook_secret: str,
    database_url: str,
) -> list[str]:
    """The "Try it yourself" list, with commands that work as printed (shell-quoted)."""
    smsgw = "smsgw" if shutil.which("smsgw") else f"{shlex.quote(sys.executable)} -m smsgw"
    control = shlex.quote(str(directory / f"{modem}.ctl"))
    header = shlex.quote(f"X-API-Key: {api_key}")
    key = shlex.quote(api_key)
    body = shlex.quote(json.dumps({"to": customer, "text": "Hello from curl"}))
    database = shlex.quote(database_url)
    return [
        "",
        "[bold]Try it yourself[/] (the demo keeps running; Ctrl-C stops it and deletes its files):",
        "",
        f"  the web inbox: open {api_url}/ui and sign in with the API key",
        f"    {api_key}",
        "  a customer texts the modem (try 'help' or 'urgent'):",
        f"    {smsgw} emulator deliver --control {control} --sender {customer} 'help'",
        "  send an SMS from the command line, or through the REST API:",
        f"    {smsgw} send --api {api_url} --key {key} {customer} 'Hello from the CLI'",
        f"    curl -s -H {header} -H 'Content-Type: application/json' \\",
        f"         -d {body} {api_url}/api/v1/messages",
        "  read the history:",
        f"    curl -s -H {header} {api_url}/api/v1/messages",
        f"    SMSGW_DATABASE__URL={database} {smsgw} messages",
        "  what the modem sent:",
        f"    {smsgw} emulator sent --control {control}",
        "  check the example webhook as the gateway would post to it (its secret is "
        f"{webhook_secret}):",
        f"    {smsgw} webhook test {webhook_url} --secret {shlex.quote(webhook_secret)}",
        f"  API docs: {api_url}/docs    metrics: {api_url}/metrics",
        "",
        "Webhook events as they arrive:",
    ]


async def follow(console: Console, webhook: DemoWebhook, stop: asyncio.Event) -> None:
    """Print every webhook event until `stop` is set."""
    seen = len(webhook.received)
    stopping = asyncio.create_task(stop.wait())
    try:
        while not stop.is_set():
            waiting = asyncio.create_task(webhook.wait_for(_any_event, start=seen))
            done, _ = await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if waiting not in done:
                waiting.cancel()
                break
            for event in webhook.received[seen:]:
                console.print(_one_line(event), soft_wrap=True)
            seen = len(webhook.received)
    finally:
        stopping.cancel()


def _any_event(event: ReceivedEvent) -> bool:
    return True


def _one_line(event: ReceivedEvent) -> str:
    payload = event.payload
    if payload.get("type") == "incoming_sms":
        answer = f" → reply {event.reply!r}" if event.reply else " → no reply"
        return f"  📩 {payload.get('sender')}: {payload.get('message')!r}{answer}"
    return f"  📊 {payload.get('smsId')} → {payload.get('status')} ({payload.get('recipient')})"
