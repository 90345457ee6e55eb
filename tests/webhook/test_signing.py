"""Headers per CONTRACT.md §2; the signature checked against an independent HMAC."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw import __version__
from smsgw.webhook.signing import SignatureError, check, request_headers, verify

BODY = b'{"type":"incoming_sms","message":"help"}'
NOW = 1_707_400_000


def independent_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def test_headers_with_a_secret() -> None:
    headers = request_headers(body=BODY, event_id="evt-1", secret="k3y", timestamp=NOW)
    assert headers == {
        "Content-Type": "application/json",
        "User-Agent": f"smsgw/{__version__}",
        "Idempotency-Key": "evt-1",
        "X-Timestamp": str(NOW),
        "X-API-Key": "k3y",
        "X-Signature": independent_signature("k3y", str(NOW), BODY),
    }


def test_without_a_secret_neither_key_nor_signature_is_sent() -> None:
    headers = request_headers(body=BODY, event_id="evt-1", secret="", timestamp=NOW)
    assert "X-API-Key" not in headers
    assert "X-Signature" not in headers
    assert headers["X-Timestamp"] == str(NOW)
    assert headers["Idempotency-Key"] == "evt-1"


def signed(secret: str = "k3y", body: bytes = BODY, timestamp: int = NOW) -> dict[str, str]:
    return request_headers(body=body, event_id="e", secret=secret, timestamp=timestamp)


def test_verify_accepts_an_authentic_fresh_request() -> None:
    assert verify("k3y", signed(), BODY, now=NOW + 10)


def test_header_names_are_case_insensitive() -> None:
    lowered = {name.lower(): value for name, value in signed().items()}
    assert verify("k3y", lowered, BODY, now=NOW)


@pytest.mark.parametrize(
    ("secret", "headers", "body", "now", "reason"),
    [
        ("k3y", signed(), BODY + b" ", NOW, "does not match"),
        ("other", signed(), BODY, NOW, "does not match"),
        ("k3y", signed(), BODY, NOW + 301, "away from now"),
        ("k3y", signed(), BODY, NOW - 301, "away from now"),
        (
            "k3y",
            {k: v for k, v in signed().items() if k != "X-Signature"},
            BODY,
            NOW,
            "missing X-Signature",
        ),
        (
            "k3y",
            {k: v for k, v in signed().items() if k != "X-Timestamp"},
            BODY,
            NOW,
            "missing X-Timestamp",
        ),
        ("k3y", {**signed(), "X-Timestamp": "soon"}, BODY, NOW, "not unix seconds"),
        ("k3y", {**signed(), "X-Timestamp": "١٧٠٧٤٠٠٠٠٠"}, BODY, NOW, "not unix seconds"),
        ("k3y", {**signed(), "X-Timestamp": str(NOW + 1)}, BODY, NOW, "does not match"),
        ("k3y", {**signed(), "X-Signature": "sha256=zz"}, BODY, NOW, "does not match"),
        ("k3y", {**signed(), "X-Signature": "sha256=é"}, BODY, NOW, "does not match"),
        ("", signed(), BODY, NOW, "no secret"),
    ],
)
def test_check_rejects_with_a_reason(
    secret: str, headers: dict[str, str], body: bytes, now: int, reason: str
) -> None:
    with pytest.raises(SignatureError, match=reason):
        check(secret, headers, body, now=now)
    assert not verify(secret, headers, body, now=now)


def test_tolerance_is_configurable() -> None:
    assert not verify("k3y", signed(), BODY, 5, now=NOW + 6)
    assert verify("k3y", signed(), BODY, 3600, now=NOW + 3000)


@given(
    secret=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1),
    body=st.binary(min_size=1),
    flip=st.integers(min_value=0),
)
@settings(deadline=None, max_examples=100)
def test_any_change_to_the_body_breaks_the_signature(secret: str, body: bytes, flip: int) -> None:
    headers = signed(secret, body)
    assert headers["X-Signature"] == independent_signature(secret, str(NOW), body)
    assert verify(secret, headers, body, now=NOW)
    position = flip % len(body)
    tampered = body[:position] + bytes([body[position] ^ 0x01]) + body[position + 1 :]
    assert not verify(secret, headers, tampered, now=NOW)
