"""`smsgw webhook test [URL]` against a real loopback server."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smsgw.cli.webhook import app
from tests.webhook.http_server import Answer, WebhookServer

pytestmark = pytest.mark.timeout(30)


def run(*args: str, config: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["test", *args, "--config", str(config)])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def empty_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMSGW_STATE_DIR", str(tmp_path / "state"))
    path = tmp_path / "smsgw.toml"
    path.write_text("")
    return path


def test_reply_is_shown_with_the_signed_headers(empty_config: Path) -> None:
    with WebhookServer(lambda _r: Answer.json({"sms_text": "Support hours: 9-5"})) as server:
        code, out, _ = run(
            server.url, "--secret", "k3y", "--message", "I need help", config=empty_config
        )
    assert code == 0
    assert "would send the reply 'Support hours: 9-5' to +40721000000" in out
    assert "x-api-key: ********" in out.lower()
    assert "k3y" not in out
    (request,) = server.received
    assert request.json()["type"] == "incoming_sms"
    assert request.json()["message"] == "I need help"
    assert request.json()["conversation_history"][-1]["message"] == "I need help"
    assert request.headers["x-api-key"] == "k3y"
    mac = hmac.new(
        b"k3y", request.headers["x-timestamp"].encode() + b"." + request.body, hashlib.sha256
    )
    assert request.headers["x-signature"] == "sha256=" + mac.hexdigest()
    assert request.headers["idempotency-key"]


def test_url_and_secret_come_from_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMSGW_STATE_DIR", str(tmp_path / "state"))
    with WebhookServer(lambda _r: Answer(200)) as server:
        config = tmp_path / "smsgw.toml"
        config.write_text(f'[webhook]\nurl = "{server.url}"\nsecret = "from-file"\n')
        code, out, _ = run(config=config)
    assert code == 0
    assert "delivered; no reply (empty response body)" in out
    assert server.received[0].headers["x-api-key"] == "from-file"


def test_json_output(empty_config: Path) -> None:
    with WebhookServer(lambda _r: Answer.json({"sms_text": "hi"})) as server:
        code, out, _ = run(server.url, "--json", config=empty_config)
    assert code == 0
    document = json.loads(out)
    assert document["outcome"] == "delivered"
    assert document["reply"] == "hi"
    assert document["response"]["status"] == 200
    assert document["request"]["body"]["type"] == "incoming_sms"
    assert document["request"]["url"] == server.url


def test_a_server_error_exits_1_and_says_it_would_retry(empty_config: Path) -> None:
    with WebhookServer(lambda _r: Answer(500, b"boom")) as server:
        code, out, err = run(server.url, config=empty_config)
    assert code == 1
    assert "< HTTP 500" in out
    assert "would retry" in err


def test_gone_exits_1_and_says_it_would_drop(empty_config: Path) -> None:
    with WebhookServer(lambda _r: Answer(410)) as server:
        code, _, err = run(server.url, config=empty_config)
    assert code == 1
    assert "dropped" in err


def test_nobody_listening_exits_1(empty_config: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err = run(f"http://127.0.0.1:{port}/hook", "--timeout", "2", config=empty_config)
    assert code == 1
    assert "no response: ConnectError" in out
    assert "would retry" in err


def test_no_url_anywhere_is_a_usage_error(empty_config: Path) -> None:
    code, _, err = run(config=empty_config)
    assert code == 2
    assert "no webhook URL" in err


@pytest.mark.parametrize("url", ["localhost:3000", "ftp://example.org/x"])
def test_a_bad_url_is_a_usage_error(empty_config: Path, url: str) -> None:
    code, _, err = run(url, config=empty_config)
    assert code == 2
    assert "webhook.url" in err


def test_the_command_is_registered_on_the_root_cli() -> None:
    from smsgw.cli.main import app as root

    result = CliRunner().invoke(root, ["webhook", "test", "--help"])
    assert result.exit_code == 0
    assert "sample incoming_sms" in result.stdout


@pytest.mark.parametrize(
    ("args", "hint"),
    [((), "no secret is configured"), (("--secret", "wrong"), "check that webhook.secret")],
)
def test_unauthorized_explains_the_secret(
    empty_config: Path, args: tuple[str, ...], hint: str
) -> None:
    with WebhookServer(lambda _r: Answer.json({"error": "Unauthorized"}, status=401)) as server:
        code, out, err = run(server.url, *args, config=empty_config)
    assert code == 1
    assert '< {"error": "Unauthorized"}' in out
    assert hint in err
