"""`smsgw demo --once` end to end (a real subprocess: pty, SQLite, HTTP on loopback) and the
example webhook it ships."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import shlex
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from smsgw.cli import demo_webhook
from smsgw.cli.demo_parts import bind, serving
from smsgw.cli.demo_tryit import try_it_lines
from smsgw.cli.demo_webhook import HELP_REPLY, URGENT_REPLY, DemoWebhook, auto_reply
from smsgw.cli.main import app

pytestmark = pytest.mark.timeout(90)


def test_demo_once_runs_the_whole_conversation(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "smsgw", "demo", "--once"],
        capture_output=True,
        text=True,
        timeout=80,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "SMSGW_STATE_DIR": str(tmp_path)},
    )
    out = completed.stdout
    assert completed.returncode == 0, out + completed.stderr
    assert "modem sim800 READY" in out
    assert out.count("📤 modem → network: AT+CMGS to +40721000000") == 3
    assert out.count("webhook POST incoming_sms (signature ✓)") == 2
    assert out.count('"status": "delivered"') == 3
    assert out.count("queued → sending → sent → delivered") == 3
    assert HELP_REPLY in out
    assert URGENT_REPLY in out
    assert '"role": "out"' in out  # the shipping notice is in the conversation history
    assert "every step of the conversation worked" in out
    assert "Try it yourself" not in out  # --once does not stay


def test_demo_once_exits_non_zero_when_a_step_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(demo_webhook, "auto_reply", lambda message: None)
    result = CliRunner().invoke(app, ["demo", "--once"], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "demo step failed" in result.stdout
    assert "did not pick a reply" in result.stdout


@pytest.mark.parametrize(
    ("message", "reply"),
    [("Hi, I need HELP", HELP_REPLY), ("urgent!", URGENT_REPLY), ("thanks", None)],
)
def test_keyword_rules(message: str, reply: str | None) -> None:
    assert auto_reply(message) == reply


async def test_example_webhook_checks_key_and_signature_and_dedupes_retries() -> None:
    webhook = DemoWebhook("s3cret")
    body = json.dumps({"type": "incoming_sms", "sender": "+40721000000", "message": "help"})
    signature = hmac.new(b"s3cret", b"1700000000." + body.encode(), hashlib.sha256).hexdigest()
    headers = {
        "X-API-Key": "s3cret",
        "X-Timestamp": "1700000000",
        "X-Signature": f"sha256={signature}",
        "Idempotency-Key": "event-1",
        "Content-Type": "application/json",
    }
    transport = httpx.ASGITransport(app=webhook.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        unauthorised = await client.post("/sms-webhook", content=body)
        first = await client.post("/sms-webhook", content=body, headers=headers)
        retry = await client.post("/sms-webhook", content=body, headers=headers)
        tampered = await client.post(
            "/sms-webhook",
            content=body.replace("help", "HELP"),
            headers={**headers, "Idempotency-Key": "event-2"},
        )
    assert unauthorised.status_code == 401
    assert first.json() == retry.json() == {"sms_text": HELP_REPLY}
    assert tampered.json() == {"sms_text": HELP_REPLY}  # answered, but flagged
    assert [event.signature_ok for event in webhook.received] == [True, False]


@pytest.mark.usefixtures("clean_env")
def test_the_try_it_list_covers_the_inbox_and_sending_and_its_webhook_test_is_accepted(
    tmp_path: Path,
) -> None:
    secret = "demo-secret-Qx81"
    webhook = DemoWebhook(secret)
    sock = bind(0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}{demo_webhook.PATH}"
    listening, stop = threading.Event(), threading.Event()

    async def serve() -> None:
        async with serving(webhook.app, sock):
            listening.set()
            while not stop.is_set():  # noqa: ASYNC110 (stopped from the test's thread)
                await asyncio.sleep(0.02)

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    try:
        assert listening.wait(10)
        lines = try_it_lines(
            directory=tmp_path,
            modem="sim800",
            customer="+40721000000",
            api_url="http://127.0.0.1:8080",
            api_key="demo-api-key-0123456789",
            webhook_url=url,
            webhook_secret=secret,
            database_url=f"sqlite:///{tmp_path / 'smsgw.db'}",
        )
        shown = "\n".join(lines)
        assert "open http://127.0.0.1:8080/ui and sign in with the API key" in shown
        assert "demo-api-key-0123456789" in shown
        assert any(" send --api http://127.0.0.1:8080 " in line for line in lines)
        assert "/api/v1/messages" in shown
        assert secret in shown
        command = shlex.split(next(line for line in lines if " webhook test " in line))
        args = command[command.index("webhook") :]
        result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.stdout + result.stderr  # not 401
        assert [event.signature_ok for event in webhook.received] == [True]
    finally:
        stop.set()
        thread.join(10)
