"""POST /api/v1/messages with `to` as a list: one message per recipient, one answer that
lists each recipient's id or refusal; the whole request refused only for shared problems."""

from __future__ import annotations

import uuid

import httpx
import pytest

from smsgw.api.schemas import MAX_RECIPIENTS

pytestmark = pytest.mark.timeout(60)


def _numbers(count: int) -> list[str]:
    base = str(uuid.uuid4().int)[-5:]
    return [f"+40724{base}{n}" for n in range(count)]


def test_one_id_per_recipient_and_an_aggregated_answer(client: httpx.Client) -> None:
    good = _numbers(3)
    client.post("/api/v1/optouts", json={"number": good[2]})
    to = [good[0], "nonsense", good[1], good[0], good[2]]
    response = client.post("/api/v1/messages", json={"to": to, "text": "Sale today"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["queued"], body["existing"], body["refused"]) == (2, 0, 2)
    results = body["results"]
    # In the order given; the repeated number is sent once.
    assert [r["to"] for r in results] == [good[0], "nonsense", good[1], good[2]]
    assert [r["status_code"] for r in results] == [202, 422, 202, 409]
    ids = [r["message"]["id"] for r in results if r["message"]]
    assert len(set(ids)) == 2
    for message_id, number in zip(ids, (good[0], good[1]), strict=True):
        detail = client.get(f"/api/v1/messages/{message_id}").json()
        assert detail["peer"] == number
        assert detail["text"] == "Sale today"
    assert "not a phone number" in results[1]["error"]
    assert "opt-out list" in results[3]["error"]


def test_a_repeated_list_request_with_a_key_sends_nothing(client: httpx.Client) -> None:
    to = _numbers(2)
    key = {"Idempotency-Key": f"campaign-{uuid.uuid4()}"}
    first = client.post("/api/v1/messages", json={"to": to, "text": "once"}, headers=key)
    again = client.post("/api/v1/messages", json={"to": to, "text": "once"}, headers=key)
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json()["existing"] == 2
    assert [r["message"]["id"] for r in again.json()["results"]] == [
        r["message"]["id"] for r in first.json()["results"]
    ]
    # A new recipient added to the same request is sent; the others are not repeated.
    extra = _numbers(1)
    grown = client.post(
        "/api/v1/messages", json={"to": [*to, *extra], "text": "once"}, headers=key
    ).json()
    assert (grown["queued"], grown["existing"]) == (1, 2)


def test_shared_problems_refuse_the_whole_request(client: httpx.Client) -> None:
    to = _numbers(2)
    for payload in (
        {"to": to, "text": ""},
        {"to": to, "text": "ţ", "encoding": "gsm7"},
        {"to": to, "text": "x", "validity": "100w"},
        {"to": [], "text": "x"},
        {"to": _numbers(1) * (MAX_RECIPIENTS + 1), "text": "x"},
    ):
        assert client.post("/api/v1/messages", json=payload).status_code == 422, payload
    listed = client.get("/api/v1/messages", params={"peer": to[0]}).json()["messages"]
    assert listed == []
