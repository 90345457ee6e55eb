"""URL secrets (userinfo passwords, query tokens) never reach a log line or a printout."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from smsgw.cli.main import app
from smsgw.redact import MASK, mask_url, mask_urls_in
from smsgw.webhook.transport import post_event
from tests.webhook.http_server import Answer, WebhookServer
from tests.webhook.settings import fast_settings

PASSWORD = "hunter2pass"
TOKEN = "tok3n-value-99"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("", ""),
        ("http://127.0.0.1:3000/hook", "http://127.0.0.1:3000/hook"),
        (f"https://bob:{PASSWORD}@example.org/h", f"https://bob:{MASK}@example.org/h"),
        ("https://bob@example.org/h", "https://bob@example.org/h"),
        (f"https://h.example/x?token={TOKEN}&a=1", f"https://h.example/x?token={MASK}&a={MASK}"),
        (f"https://h.example/x?{TOKEN}", f"https://h.example/x?{MASK}"),
        (f"https://h.example/x#{TOKEN}", f"https://h.example/x#{MASK}"),
        (
            f"postgresql+asyncpg://app:{PASSWORD}@db:5432/smsgw?ssl=require&password={TOKEN}",
            f"postgresql+asyncpg://app:{MASK}@db:5432/smsgw?ssl=require&password={MASK}",
        ),
        ("http://[::1:bad", MASK),
        ("sqlite:////var/lib/smsgw/smsgw.db", "sqlite:////var/lib/smsgw/smsgw.db"),
        ("sqlite+aiosqlite:///rel.db?mode=ro", "sqlite+aiosqlite:///rel.db?mode=ro"),
    ],
)
def test_mask_url_keeps_where_and_hides_secrets(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_mask_urls_in_rewrites_every_url_of_a_message() -> None:
    text = f'HTTP Request: POST https://u:{PASSWORD}@h/x?token={TOKEN} "HTTP/1.1 200 OK"'
    masked = mask_urls_in(text)
    assert PASSWORD not in masked
    assert TOKEN not in masked
    assert masked.startswith(f"HTTP Request: POST https://u:{MASK}@h/x?token={MASK}")
    assert masked.endswith('"HTTP/1.1 200 OK"')


async def test_httpx_request_log_shows_no_credentials(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # The CLI's logging set-up quiets httpx's own logger; an earlier test may have run it.
    caplog.set_level(logging.DEBUG, logger="httpx")
    with WebhookServer(lambda _r: Answer()) as server:
        url = server.url.replace("http://", f"http://hook:{PASSWORD}@") + f"?token={TOKEN}"
        async with httpx.AsyncClient() as client:
            attempt = await post_event(
                client, fast_settings(url), body=b"{}", event_id="e1", timestamp=1
            )
    assert attempt.http_status == 200
    assert any("HTTP Request: POST" in record.getMessage() for record in caplog.records)
    logged = caplog.text + "".join(record.getMessage() for record in caplog.records)
    assert PASSWORD not in logged
    assert TOKEN not in logged


async def test_a_failed_post_reason_shows_no_credentials() -> None:
    url = f"http://hook:{PASSWORD}@127.0.0.1:9/x?token={TOKEN}"  # discard port: refused
    async with httpx.AsyncClient() as client:
        attempt = await post_event(
            client, fast_settings(url), body=b"{}", event_id="e", timestamp=1
        )
    assert attempt.http_status is None
    assert PASSWORD not in attempt.describe()
    assert TOKEN not in attempt.describe()


def test_config_check_masks_url_tokens_and_passwords(tmp_path: Path) -> None:
    config = tmp_path / "smsgw.toml"
    config.write_text(
        f"""
[webhook]
url = "https://hook:{PASSWORD}@example.org/sms?token={TOKEN}"
[database]
url = "postgresql+asyncpg://app:{PASSWORD}@db.internal/smsgw?password={TOKEN}"
""",
        encoding="utf-8",
    )
    for extra in ([], ["--json"]):
        result = CliRunner().invoke(
            app,
            ["config", "check", "--config", str(config), *extra],
            env={"SMSGW_STATE_DIR": str(tmp_path)},
        )
        assert result.exit_code == 0, result.output
        assert "example.org/sms?token=" in result.stdout
        assert PASSWORD not in result.output
        assert TOKEN not in result.output
