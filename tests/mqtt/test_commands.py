"""The send topics' parsing: every malformed payload becomes a refusal with a reason."""

from __future__ import annotations

import json

import pytest

from smsgw.mqtt.commands import (
    MAX_REQUEST_BYTES,
    SendRefused,
    SendResult,
    parse_send,
    request_id_of,
)


def test_a_full_request() -> None:
    payload = json.dumps(
        {"to": "+40721000001", "text": "hi", "id": "a1", "delivery_report": False}
    ).encode()
    command = parse_send(payload, modem="sim0")
    assert (command.to, command.text, command.request_id) == ("+40721000001", "hi", "a1")
    assert command.delivery_report is False
    assert command.modem == "sim0"


def test_defaults_and_modem_from_the_payload_on_the_shared_topic() -> None:
    command = parse_send(b'{"to": "0721000001", "text": "x", "modem": "sim1"}', modem=None)
    assert command.delivery_report is True
    assert command.request_id is None
    assert command.modem == "sim1"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "not JSON"),
        (b"{", "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
        (b"[]", "JSON object"),
        (b'"text"', "JSON object"),
        (b'{"to": "+1", "text": "x", "extra": 1}', "unknown key"),
        (b'{"text": "x"}', '"to"'),
        (b'{"to": 5, "text": "x"}', '"to"'),
        (b'{"to": "+1", "text": null}', '"text"'),
        (b'{"to": "+1", "text": "x", "id": 7}', '"id"'),
        (b'{"to": "+1", "text": "x", "id": "   "}', '"id"'),
        (b'{"to": "+1", "text": "x", "delivery_report": "yes"}', "delivery_report"),
        (b'{"to": "+1", "text": "x", "modem": 3}', '"modem"'),
        (b'{"to": "+1", "text": "x", "modem": "other"}', "contradicts"),
        (b"[" * 100000 + b"]" * 100000, "over"),
        (b'{"to": "+1", "text": "' + b"x" * MAX_REQUEST_BYTES + b'"}', "over"),
    ],
)
def test_malformed_payloads_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(SendRefused, match=reason):
        parse_send(payload, modem="sim0")


def test_deep_nesting_inside_the_size_bound_is_refused_not_raised() -> None:
    with pytest.raises(SendRefused):
        parse_send(b"[" * 5000 + b"]" * 5000, modem=None)


def test_the_id_of_a_refused_request_is_echoed_when_readable() -> None:
    assert request_id_of(b'{"id": "r9", "to": 1}') == "r9"
    assert request_id_of(b"{oops") is None
    assert request_id_of(b'{"id": 5}') is None


def test_result_payloads() -> None:
    assert json.loads(SendResult("a", "m1", None).payload()) == {
        "id": "a", "message_id": "m1", "status": "queued", "error": None,
    }  # fmt: skip
    assert json.loads(SendResult(None, None, "bad").payload())["status"] == "rejected"


def test_sending_options_are_read_and_typed() -> None:
    payload = json.dumps(
        {"to": "+40721000001", "text": "x", "send_at": "2026-12-24T09:00:00+02:00",
         "validity": "1h", "flash": True, "encoding": "gsm7"}
    ).encode()  # fmt: skip
    command = parse_send(payload, modem=None)
    assert (command.send_at, command.validity, command.flash, command.encoding) == (
        "2026-12-24T09:00:00+02:00", "1h", True, "gsm7"
    )  # fmt: skip
    for bad, reason in (({"flash": "yes"}, '"flash"'), ({"validity": 3600}, '"validity"'),
                        ({"send_at": "x" * 65}, '"send_at"')):  # fmt: skip
        with pytest.raises(SendRefused, match=reason):
            parse_send(json.dumps({"to": "+40721000001", "text": "x", **bad}).encode(), modem=None)
