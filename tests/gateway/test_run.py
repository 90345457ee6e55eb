"""`smsgw run`'s serve(): the gateway and the REST API in one event loop."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from smsgw.cli.run import serve
from smsgw.exceptions import SmsgwError
from smsgw.gateway import Gateway
from smsgw.store import open_database, repository
from smsgw.store.migrate import upgrade
from tests.gateway.helpers import emulators, eventually, gateway_settings, of_type
from tests.ports import free_port
from tests.store_helpers import dead_letter, queue_event
from tests.webhook.http_server import Answer, WebhookServer

pytestmark = pytest.mark.timeout(60)

KEY = "k" * 32


async def test_an_api_send_goes_out_and_its_statuses_reach_the_webhook(tmp_path: Path) -> None:
    port = free_port()
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "sim0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"sim0": tmp_path / "sim0"}
            )
            settings = settings.model_validate(
                settings.model_dump() | {"api": {"listen": f"127.0.0.1:{port}", "key": KEY}}
            )
            stop = asyncio.Event()
            daemon = asyncio.create_task(serve(settings, KEY, stop=stop))
            base = f"http://127.0.0.1:{port}"
            try:
                async with httpx.AsyncClient(base_url=base, timeout=5) as client:

                    async def ready() -> int:
                        try:
                            return (await client.get("/health/ready")).status_code
                        except httpx.TransportError:
                            return 0

                    async with asyncio.timeout(15):
                        while await ready() != 200:  # noqa: ASYNC110 - polling over HTTP
                            await asyncio.sleep(0.05)
                    unauthorised = await client.post(
                        "/api/v1/messages", json={"to": "+40722000000", "text": "hi"}
                    )
                    assert unauthorised.status_code == 401
                    answer = await client.post(
                        "/api/v1/messages",
                        json={"to": "+40722000000", "text": "hello from the API"},
                        headers={"X-API-Key": KEY},
                    )
                    assert answer.status_code == 202, answer.text
                    sms_id = answer.json()["id"]
                    await eventually(lambda: len(of_type(server.received, "sms_status")) == 2)
                    assert [
                        (s["smsId"], s["status"]) for s in of_type(server.received, "sms_status")
                    ] == [
                        (sms_id, "sent"),
                        (sms_id, "delivered"),
                    ]
                    assert [m.text for m in modems["sim0"].sent()] == ["hello from the API"]
                    listed = await client.get("/api/v1/modems", headers={"X-API-Key": KEY})
                    assert listed.status_code == 200
                    assert "sim0" in listed.text
                    exported = (await client.get("/metrics")).text
                    assert 'smsgw_messages_out_total{modem="sim0",status="delivered"}' in exported
            finally:
                stop.set()
                await daemon


async def test_a_busy_api_port_stops_the_gateway_with_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = gateway_settings(tmp_path, webhook_url="", modems={})
        settings = settings.model_validate(
            settings.model_dump() | {"api": {"listen": f"127.0.0.1:{port}", "key": KEY}}
        )
        with pytest.raises(SmsgwError, match="could not listen"):
            await serve(settings, KEY, stop=asyncio.Event())


async def test_wake_webhook_posts_a_retried_dead_letter_at_once(tmp_path: Path) -> None:
    """The API's "retry" wakes the running dispatcher; without the wake it would sleep until
    its 30 s idle poll, far beyond this test's 5 s window.

    The event is dead-lettered before the gateway starts, so the running dispatcher cannot
    post it between "enqueued" and "dead-lettered" (a race an earlier version of this test
    lost now and then on a loaded machine).
    """
    with WebhookServer(lambda _r: Answer()) as server:
        settings = gateway_settings(tmp_path, webhook_url=server.url, modems={})
        await upgrade(settings.database.url)
        db = open_database(settings.database.url)
        try:
            entry = await queue_event(
                db, "dead-1.sent", "+40722000000", body=b'{"type": "sms_status"}'
            )
            assert await dead_letter(db, entry.id, error="HTTP 500 for 48h")
        finally:
            await db.close()
        async with Gateway(settings) as gateway:
            await asyncio.sleep(0.3)  # the dispatcher has gone back to its idle sleep
            assert server.received == []
            assert await repository.retry_dead_letter(gateway.db, entry.id)
            gateway.wake_webhook()
            await eventually(lambda: len(server.received) == 1, within=5)
            assert server.received[0].json() == {"type": "sms_status"}


async def test_wake_webhook_without_a_webhook_is_harmless(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, webhook_url="", modems={})
    async with Gateway(settings) as gateway:
        assert gateway.dispatcher is None
        gateway.wake_webhook()


def _sample(exported: str, name: str, labels: dict[str, str]) -> float:
    """A sample's value in a /metrics text (0 when absent)."""
    for family in text_string_to_metric_families(exported):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


async def test_metrics_show_at_command_latency_and_errors_after_traffic(tmp_path: Path) -> None:
    port = free_port()
    with WebhookServer(lambda _r: Answer()) as server:
        async with emulators(tmp_path, "atm0") as modems:
            settings = gateway_settings(
                tmp_path, webhook_url=server.url, modems={"atm0": tmp_path / "atm0"}
            )
            settings = settings.model_validate(
                settings.model_dump() | {"api": {"listen": f"127.0.0.1:{port}", "key": KEY}}
            )
            stop = asyncio.Event()
            daemon = asyncio.create_task(serve(settings, KEY, stop=stop))
            try:
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": KEY}, timeout=5
                ) as client:

                    async def status(path: str) -> int:
                        try:
                            return (await client.get(path)).status_code
                        except httpx.TransportError:
                            return 0

                    async with asyncio.timeout(15):
                        while await status("/health/ready") != 200:  # noqa: ASYNC110
                            await asyncio.sleep(0.05)
                    modems["atm0"].faults.fail_next_send(cause=500)
                    for text in ("refused by the network", "accepted"):
                        answer = await client.post(
                            "/api/v1/messages", json={"to": "+40722000000", "text": text}
                        )
                        assert answer.status_code == 202, answer.text
                    await eventually(lambda: len(of_type(server.received, "sms_status")) >= 2)
                    exported = (await client.get("/metrics")).text
            finally:
                stop.set()
                await daemon
    sends = {"modem": "atm0", "command": "AT+CMGS"}
    assert _sample(exported, "smsgw_at_command_seconds_count", sends) == 2
    assert _sample(exported, "smsgw_at_command_seconds_sum", sends) > 0
    # The health check and init commands were timed too, each under its own bounded name.
    assert _sample(exported, "smsgw_at_command_seconds_count", {**sends, "command": "AT"}) >= 1
    assert _sample(exported, "smsgw_at_command_errors_total", {**sends, "error": "cms"}) == 1
    assert "+40722000000" not in exported
