"""`smsgw demo --once` end to end (a real subprocess: pty, SQLite, HTTP on loopback) and the
example webhook it ships."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from smsgw.cli import demo_webhook
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
