"""`incoming_sms` / `sms_status` bodies field by field against CONTRACT.md §2, and reply parsing."""

from __future__ import annotations

import calendar
import datetime
import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.models import Direction, MessageStatus, WebhookEventKind
from smsgw.webhook.payloads import (
    ConversationTurn,
    UnrecordableAnswer,
    clean_text,
    epoch_millis,
    incoming_sms_body,
    read_reply,
    sms_status_body,
)

UTC = datetime.UTC
EET = datetime.timezone(datetime.timedelta(hours=2))
# CONTRACT.md §2's example instants, expressed in the SMSC's own (+02:00) offset: the payload
# must still say 1707400000000, i.e. the conversion is done in UTC, not in local time.
CURRENT_AT = datetime.datetime(2024, 2, 8, 15, 46, 40, tzinfo=EET)
EARLIER_AT = datetime.datetime(2024, 2, 8, 15, 30, 0, tzinfo=EET)


def contract_example(history_size: int = 10) -> bytes:
    return incoming_sms_body(
        message_id="msg-1",
        sender="+40721000000",
        message="Hi, I need help",
        received_at=CURRENT_AT,
        earlier=[ConversationTurn(Direction.OUT, "Your order #1234 has shipped!", EARLIER_AT)],
        history_size=history_size,
        modem="sim800",
        recipient="+40700000001",
    )


def test_incoming_sms_matches_the_contract_example_field_by_field() -> None:
    document = json.loads(contract_example())
    assert list(document) == [
        "type",
        "sender",
        "message",
        "timestamp",
        "conversation_history",
        "id",
        "modem",
        "recipient",
    ]
    assert document["type"] == "incoming_sms"
    assert document["sender"] == "+40721000000"
    assert document["message"] == "Hi, I need help"
    assert document["timestamp"] == 1707400000000
    assert type(document["timestamp"]) is int
    assert document["conversation_history"] == [
        {"role": "out", "message": "Your order #1234 has shipped!", "timestamp": 1707399000000},
        {"role": "in", "message": "Hi, I need help", "timestamp": 1707400000000},
    ]
    assert all(
        list(item) == ["role", "message", "timestamp"] for item in document["conversation_history"]
    )
    assert document["id"] == "msg-1"
    assert document["modem"] == "sim800"
    assert document["recipient"] == "+40700000001"


def test_recipient_may_be_null() -> None:
    body = incoming_sms_body(
        message_id="m",
        sender="+1",
        message="x",
        received_at=CURRENT_AT,
        earlier=[],
        history_size=5,
        modem="a",
        recipient=None,
    )
    assert json.loads(body)["recipient"] is None
    assert b'"recipient":null' in body


def test_history_zero_keeps_the_key_with_an_empty_list() -> None:
    document = json.loads(contract_example(history_size=0))
    assert document["conversation_history"] == []


@pytest.mark.parametrize("size", [1, 5, 10, 20, 50])
def test_history_keeps_the_last_n_oldest_first_with_the_current_message_last(size: int) -> None:
    start = datetime.datetime(2025, 1, 1, tzinfo=UTC)
    earlier = [
        ConversationTurn(
            Direction.IN if n % 2 else Direction.OUT, f"m{n}", start + datetime.timedelta(minutes=n)
        )
        for n in range(30)
    ]
    received = start + datetime.timedelta(hours=1)
    body = incoming_sms_body(
        message_id="x",
        sender="+40721000000",
        message="now",
        received_at=received,
        earlier=earlier,
        history_size=size,
        modem="m",
        recipient=None,
    )
    history = json.loads(body)["conversation_history"]
    everything = [turn.message for turn in earlier] + ["now"]
    assert [item["message"] for item in history] == everything[-size:]
    assert history[-1] == {"role": "in", "message": "now", "timestamp": epoch_millis(received)}
    stamps = [item["timestamp"] for item in history]
    assert stamps == sorted(stamps)
    assert {item["role"] for item in history} <= {"in", "out"}


def test_bodies_are_deterministic_so_retries_are_byte_identical() -> None:
    assert contract_example() == contract_example()


def test_negative_history_size_is_refused() -> None:
    with pytest.raises(ValueError, match="history_size"):
        contract_example(history_size=-1)


def test_naive_timestamps_are_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        epoch_millis(datetime.datetime(2024, 2, 8, 13, 46, 40))


# Fixed offsets, as an SMSC timestamp carries them (quarter hours, up to ±23:59 allowed here).
OFFSETS = st.builds(
    datetime.timezone,
    st.timedeltas(
        min_value=datetime.timedelta(hours=-23, minutes=-59),
        max_value=datetime.timedelta(hours=23, minutes=59),
    ),
)


@given(
    st.datetimes(
        min_value=datetime.datetime(1971, 1, 1),
        max_value=datetime.datetime(2199, 12, 31),
        timezones=OFFSETS,
    )
)
@settings(deadline=None, max_examples=200)
def test_epoch_millis_is_the_exact_utc_instant(moment: datetime.datetime) -> None:
    utc = moment.astimezone(UTC)
    assert epoch_millis(moment) == calendar.timegm(utc.timetuple()) * 1000 + utc.microsecond // 1000


def test_millisecond_part_is_truncated_not_rounded() -> None:
    moment = datetime.datetime(2024, 2, 8, 13, 46, 40, 999999, tzinfo=UTC)
    assert epoch_millis(moment) == 1707400000999


def test_unicode_text_is_sent_as_utf8_and_lone_surrogates_do_not_crash() -> None:
    body = incoming_sms_body(
        message_id="u",
        sender="+40721000000",
        message="Salut 😀 ăîșț \ud83d",
        received_at=CURRENT_AT,
        earlier=[],
        history_size=1,
        modem="m",
        recipient=None,
    )
    text = body.decode("utf-8")  # strict: valid UTF-8
    assert json.loads(text)["message"] == "Salut 😀 ăîșț \ufffd"
    assert "😀".encode() in body


def test_clean_text_joins_a_split_surrogate_pair() -> None:
    assert clean_text("\ud83d\ude00") == "😀"
    assert clean_text("plain") == "plain"


def test_sms_status_matches_the_contract_example_field_by_field() -> None:
    body = sms_status_body(
        sms_id="abc",
        status=MessageStatus.SENT,
        recipient="+40721000000",
        at=datetime.datetime(2024, 2, 8, 15, 46, 45, tzinfo=EET),
        parts=2,
    )
    document = json.loads(body)
    assert list(document) == ["type", "smsId", "status", "recipient", "timestamp", "parts", "error"]
    assert document == {
        "type": "sms_status",
        "smsId": "abc",
        "status": "sent",
        "recipient": "+40721000000",
        "timestamp": 1707400005000,
        "parts": 2,
        "error": None,
    }


@pytest.mark.parametrize(
    "status",
    [MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.EXPIRED],
)
def test_sms_status_carries_each_reportable_status(status: MessageStatus) -> None:
    error = "+CMS ERROR: 38" if status is MessageStatus.FAILED else None
    document = json.loads(
        sms_status_body(
            sms_id="i", status=status, recipient="+4", at=CURRENT_AT, parts=1, error=error
        )
    )
    assert document["status"] == status.value
    assert document["error"] == error


@pytest.mark.parametrize("status", [MessageStatus.QUEUED, MessageStatus.SENDING])
def test_internal_statuses_never_reach_the_webhook(status: MessageStatus) -> None:
    with pytest.raises(ValueError, match="internal"):
        sms_status_body(sms_id="i", status=status, recipient="+4", at=CURRENT_AT, parts=1)


def test_sms_status_needs_at_least_one_part() -> None:
    with pytest.raises(ValueError, match="parts"):
        sms_status_body(
            sms_id="i", status=MessageStatus.SENT, recipient="+4", at=CURRENT_AT, parts=0
        )


INCOMING = WebhookEventKind.INCOMING_SMS


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"sms_text": "Thanks! Our support team will contact you shortly."}',
            "Thanks! Our support team will contact you shortly.",
        ),
        (b'{"sms_text":"\\u0103 \\ud83d\\ude00"}', "ă 😀"),
        (b'{"sms_text": "hi", "other": 1}', "hi"),
        (b"", None),
        (b"  \r\n", None),
        (b"{}", None),
        (b'{"sms_text": ""}', None),
        (b'{"sms_text": "   "}', None),
        (b'{"sms_text": null}', None),
        (b'{"sms_text": 42}', None),
        (b'{"sms_text": ["a"]}', None),
        (b'["sms_text"]', None),
        (b'"just a string"', None),
        (b"OK", None),
        (b"<html>ok</html>", None),
        (b"\xff\xfe{", None),
    ],
)
def test_read_reply(body: bytes, expected: str | None) -> None:
    decision = read_reply(INCOMING, body)
    assert decision.text == expected
    assert decision.replies is (expected is not None)
    assert decision.reason


def test_ignored_answers_are_logged_with_the_reason(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="smsgw.webhook.payloads"):
        decision = read_reply(INCOMING, b"<html>Thanks</html>")
    assert decision.text is None
    assert "not JSON" in decision.reason
    assert "not JSON" in caplog.text
    assert "<html>" in caplog.text


def test_status_events_never_produce_a_reply() -> None:
    decision = read_reply(WebhookEventKind.SMS_STATUS, b'{"sms_text": "hi"}')
    assert decision.text is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"sms_text": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", "nested too deeply"),
        (b"[" * 20_000 + b"]" * 20_000, "nested too deeply"),
        (json.dumps({"sms_text": "call me\u0000back"}).encode(), "NUL character"),
    ],
    ids=["nested-sms_text", "nested-document", "nul-in-sms_text"],
)
def test_an_answer_that_cannot_be_recorded_is_not_a_delivery(body: bytes, reason: str) -> None:
    with pytest.raises(UnrecordableAnswer, match=reason):
        read_reply(INCOMING, body)


def test_history_is_sorted_oldest_first_and_the_current_message_stays_last() -> None:
    newest_first = [
        ConversationTurn(Direction.OUT, "reply", CURRENT_AT + datetime.timedelta(seconds=30)),
        ConversationTurn(Direction.IN, "first", EARLIER_AT),
    ]
    body = incoming_sms_body(
        message_id="o",
        sender="+40721000000",
        message="now",
        received_at=CURRENT_AT,  # the SMSC clock runs behind our send time of "reply"
        earlier=newest_first,
        history_size=10,
        modem="m",
        recipient=None,
    )
    history = json.loads(body)["conversation_history"]
    assert [item["message"] for item in history] == ["first", "reply", "now"]
