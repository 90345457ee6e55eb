"""`smsgw demo [--once]`: the whole gateway on this machine, no hardware (CONTRACT.md §4).

An emulated SIM800 on a pty, the real daemon (gateway + REST API) on SQLite in a temporary
state directory, and the example keyword auto-responder as its webhook. A scripted
conversation then runs through every layer and is printed as it happens:

1. the shop sends a shipping notice through the REST API → modem → `sent` → `delivered`;
2. the customer asks for help → `incoming_sms` webhook (with the conversation history) →
   auto-reply → modem → `sent` → `delivered`;
3. the customer writes URGENT → agent-callback auto-reply → `sent` → `delivered`.

Then it keeps running and prints how to try it by hand (`--once`: exit 0 after the script,
1 if any step failed). Each step waits for the real event (webhook POST, the emulator seeing
AT+CMGS, the status report), never for a fixed time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import signal
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from smsgw.cli.common import EXIT_FAILED, EXIT_OK
from smsgw.cli.demo_parts import MODEM, StepFailed, bind, demo_settings, serving, within
from smsgw.cli.demo_state import DEMO_DIR_PREFIX
from smsgw.cli.demo_tryit import follow, try_it_lines
from smsgw.cli.demo_webhook import PATH as WEBHOOK_PATH
from smsgw.cli.demo_webhook import DemoWebhook, ReceivedEvent, auto_reply
from smsgw.config import Settings
from smsgw.emulator import DeviceOptions, EmulatedModem
from smsgw.exceptions import SmsgwError
from smsgw.gateway import Gateway
from smsgw.models import Direction
from smsgw.store import repository
from smsgw.webapp import create_app

CUSTOMER = "+40721000000"
PREFERRED_API_PORT = 8080

SHIPPING_NOTICE = "Your order #1234 has shipped!"
HELP_REQUEST = "Hi, I need help with my order"
URGENT_REQUEST = "URGENT please call me"


def demo(
    once: Annotated[
        bool,
        typer.Option("--once", help="Exit after the scripted conversation (0 = every step ok)."),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also show the gateway's own log lines.")
    ] = False,
) -> None:
    """Try smsgw without hardware: an emulated SIM800, the daemon and an example webhook.

    Shows a scripted conversation (API send, incoming SMS -> webhook -> auto-reply ->
    delivery reports), then keeps running so you can send and receive by hand. Everything
    lives in a temporary directory that is removed on exit (Ctrl-C).
    """
    root = logging.getLogger()
    level = root.level
    if not verbose:
        root.setLevel(logging.WARNING)  # the story is printed; the gateway's log is noise
    console = Console(highlight=False)
    try:
        code = asyncio.run(_main(console, once=once))
    except KeyboardInterrupt:
        code = EXIT_OK
    except (SmsgwError, OSError) as exc:  # e.g. no pty available, port or disk trouble
        console.print(f"[bold red]✗ demo failed:[/] {exc}")
        code = EXIT_FAILED
    finally:
        root.setLevel(level)
    raise typer.Exit(code)


async def _main(console: Console, *, once: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    with tempfile.TemporaryDirectory(prefix=DEMO_DIR_PREFIX) as directory:
        try:
            async with DemoRun.started(Path(directory), console) as run:
                try:
                    await run.script()
                except StepFailed as failure:
                    console.print(f"[bold red]✗ demo step failed:[/] {failure}")
                    return EXIT_FAILED
                console.print("\n[bold green]✓ every step of the conversation worked.[/]")
                if once:
                    return EXIT_OK
                run.print_try_it()
                await run.follow(stop)
        except StepFailed as failure:
            console.print(f"[bold red]✗ demo could not start:[/] {failure}")
            return EXIT_FAILED
    console.print("demo stopped; its temporary files are gone.")
    return EXIT_OK


class DemoRun:
    """The running pieces of the demo and the scripted conversation over them."""

    def __init__(
        self,
        *,
        console: Console,
        directory: Path,
        settings: Settings,
        emulator: EmulatedModem,
        webhook: DemoWebhook,
        webhook_url: str,
        gateway: Gateway,
        api_url: str,
        api_key: str,
    ) -> None:
        self.console = console
        self.directory = directory
        self.settings = settings
        self.emulator = emulator
        self.webhook = webhook
        self.webhook_url = webhook_url
        self.gateway = gateway
        self.api_url = api_url
        self.api_key = api_key

    # ------------------------------------------------------------------ start-up

    @classmethod
    @contextlib.asynccontextmanager
    async def started(cls, directory: Path, console: Console) -> AsyncIterator[DemoRun]:
        console.print(f"[bold]smsgw demo[/] — state directory {directory}\n")
        async with contextlib.AsyncExitStack() as stack:
            secret = secrets.token_urlsafe(16)
            api_key = secrets.token_urlsafe(24)
            webhook = DemoWebhook(secret)
            webhook_socket = bind(0)
            webhook_url = f"http://127.0.0.1:{webhook_socket.getsockname()[1]}{WEBHOOK_PATH}"
            await stack.enter_async_context(serving(webhook.app, webhook_socket))
            console.print(f"  • example webhook (keyword auto-responder) on {webhook_url}")

            link = directory / MODEM
            emulator = EmulatedModem(
                "sim800",
                link,
                control=directory / f"{MODEM}.ctl",
                options=DeviceOptions(boot_scale=0.1, cmgs_delay=0.2, report_delay=0.8),
            )
            await stack.enter_async_context(emulator)
            console.print(f"  • emulated SIM800 on {emulator.pty_name} (link {link})")

            api_socket = bind(PREFERRED_API_PORT)
            api_url = f"http://127.0.0.1:{api_socket.getsockname()[1]}"
            settings = demo_settings(directory, link, webhook_url, secret, api_key, api_url)
            gateway = await stack.enter_async_context(Gateway(settings))
            await within(gateway.supervisor(MODEM).wait_ready(), f"modem {MODEM} becomes READY")
            app = create_app(gateway, api_key)
            await stack.enter_async_context(serving(app, api_socket))
            console.print(f"  • gateway: modem {MODEM} READY, SQLite in {directory}")
            console.print(f"  • REST API on {api_url} (docs: {api_url}/docs)")
            console.print(f"  • web inbox on {api_url}/ui\n")
            yield cls(
                console=console,
                directory=directory,
                settings=settings,
                emulator=emulator,
                webhook=webhook,
                webhook_url=webhook_url,
                gateway=gateway,
                api_url=api_url,
                api_key=api_key,
            )

    # ------------------------------------------------------------------ the script

    async def script(self) -> None:
        say = self.console.print
        say("[bold]1. Your shop sends a shipping notice through the REST API[/]")
        body = json.dumps({"to": "0721 000 000", "text": SHIPPING_NOTICE})
        say(f"   POST {self.api_url}/api/v1/messages {body}")
        accepted = await within(self._api_send("0721 000 000", SHIPPING_NOTICE), "API send")
        say(f"   ← 202 {json.dumps(accepted, default=str)}")
        await self._follow_delivery(accepted["id"], SHIPPING_NOTICE)

        say("\n[bold]2. The customer answers; the webhook auto-replies[/]")
        incoming = await self._customer_writes(HELP_REQUEST)
        await self._follow_auto_reply(incoming)

        say("\n[bold]3. The customer writes URGENT; the webhook promises a callback[/]")
        incoming = await self._customer_writes(URGENT_REQUEST)
        await self._follow_auto_reply(incoming)

    async def _customer_writes(self, text: str) -> ReceivedEvent:
        start = len(self.webhook.received)
        self.console.print(f"   📩 network → modem: SMS from {CUSTOMER}: {text!r}")
        await self.emulator.deliver(CUSTOMER, text)
        event = await within(
            self.webhook.wait_for(
                lambda e: (
                    e.payload.get("type") == "incoming_sms" and e.payload.get("message") == text
                ),
                start=start,
            ),
            "the webhook receives the incoming_sms event",
        )
        signed = "signature ✓" if event.signature_ok else "[red]signature ✗[/]"
        self.console.print(f"   🌐 webhook POST incoming_sms ({signed}):")
        self.console.print_json(json.dumps(event.payload))
        return event

    async def _follow_auto_reply(self, incoming: ReceivedEvent) -> None:
        reply = auto_reply(str(incoming.payload["message"]))
        if reply is None or incoming.reply != reply:
            raise StepFailed(f"the example webhook did not pick a reply for {incoming.payload}")
        self.console.print(f'   ↩  webhook answers {{"sms_text": {json.dumps(reply)}}}')
        incoming_id = str(incoming.payload["id"])
        reply_id = await within(
            self._auto_reply_id(incoming_id), "the gateway queues the auto-reply"
        )
        await self._follow_delivery(reply_id, reply)

    async def _auto_reply_id(self, incoming_id: str) -> str:
        while True:
            records = await repository.list_messages(
                self.gateway.db, direction=Direction.OUT, peer=CUSTOMER, limit=20
            )
            for record in records:
                if record.reply_to == incoming_id:
                    return record.id
            await asyncio.sleep(0.05)

    async def _follow_delivery(self, message_id: str, text: str) -> None:
        sent = await within(self._modem_sent(text), f"the modem sends {text!r}")
        self.console.print(
            f"   📤 modem → network: AT+CMGS to {sent['recipient']}, "
            f"{sent['parts']} part(s), reference {sent['mr']}"
        )
        for status in ("sent", "delivered"):
            event = await within(
                self.webhook.wait_for(_status_event(message_id, status)),
                f"the webhook receives sms_status {status} for {message_id}",
            )
            icon = "📊" if status == "sent" else "✅"
            self.console.print(
                f"   {icon} webhook POST sms_status: {json.dumps(event.payload, default=str)}"
            )
        detail = await within(self._api_get(message_id), "GET the message")
        history = " → ".join(e["status"] for e in detail["history"] if e["part"] is None)
        self.console.print(f"   🔎 GET /api/v1/messages/{message_id}: {history}")

    async def _modem_sent(self, text: str) -> dict[str, Any]:
        while True:
            for message in self.emulator.sent_json():
                if message["text"] == text:
                    return message
            await asyncio.sleep(0.05)

    async def _api_send(self, to: str, text: str) -> dict[str, Any]:
        async with httpx.AsyncClient(headers={"X-API-Key": self.api_key}) as http:
            response = await http.post(
                f"{self.api_url}/api/v1/messages", json={"to": to, "text": text}
            )
        if response.status_code != 202:
            raise StepFailed(f"API send answered {response.status_code}: {response.text}")
        data: dict[str, Any] = response.json()
        return data

    async def _api_get(self, message_id: str) -> dict[str, Any]:
        async with httpx.AsyncClient(headers={"X-API-Key": self.api_key}) as http:
            response = await http.get(f"{self.api_url}/api/v1/messages/{message_id}")
        if response.status_code != 200:
            raise StepFailed(f"GET message answered {response.status_code}: {response.text}")
        data: dict[str, Any] = response.json()
        return data

    # ------------------------------------------------------------------ by hand

    def print_try_it(self) -> None:
        lines = try_it_lines(
            directory=self.directory,
            modem=MODEM,
            customer=CUSTOMER,
            api_url=self.api_url,
            api_key=self.api_key,
            webhook_url=self.webhook_url,
            webhook_secret=self.settings.webhook.secret.get_secret_value(),
            database_url=self.settings.database.url,
        )
        for line in lines:
            self.console.print(line, soft_wrap=True)

    async def follow(self, stop: asyncio.Event) -> None:
        """Print every webhook event until `stop` is set."""
        await follow(self.console, self.webhook, stop)


def _status_event(message_id: str, status: str) -> Callable[[ReceivedEvent], bool]:
    def matches(event: ReceivedEvent) -> bool:
        payload = event.payload
        return (
            payload.get("type") == "sms_status"
            and payload.get("smsId") == message_id
            and payload.get("status") == status
        )

    return matches
