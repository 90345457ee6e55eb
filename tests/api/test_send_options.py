"""POST /api/v1/messages options (send_at, validity, flash, encoding) through a live server:
stored as asked, refused with a 422 that names the option."""

from __future__ import annotations

import datetime
import uuid

import httpx
import pytest

from tests.api.live import LiveApi, receive, send_and_deliver

pytestmark = pytest.mark.timeout(60)


def _number() -> str:
    return "+40722" + str(uuid.uuid4().int)[-6:]


def test_options_are_stored_and_shown(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/messages",
        json={"to": _number(), "text": "Flash!", "flash": True, "validity": "1d",
              "encoding": "ucs2"},
    )  # fmt: skip
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["encoding"] == "ucs2"
    detail = client.get(f"/api/v1/messages/{body['id']}").json()
    assert detail["flash"] is True
    assert detail["validity_seconds"] == 86400
    assert detail["send_at"] is None


def test_send_at_in_the_future_is_scheduled(client: httpx.Client) -> None:
    when = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=2)
    local = when.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    response = client.post(
        "/api/v1/messages", json={"to": _number(), "text": "later", "send_at": local.isoformat()}
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "scheduled"
    assert datetime.datetime.fromisoformat(body["send_at"]) == when


def test_send_at_in_the_past_is_queued_now(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/messages",
        json={"to": _number(), "text": "now", "send_at": "2020-01-01T00:00:00Z"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"


def test_gsm7_forced_names_the_first_character_it_cannot_carry(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/messages", json={"to": _number(), "text": "Plată în lei", "encoding": "gsm7"}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "'ă'" in detail
    assert "U+0103" in detail
    assert "cannot be sent as gsm7" in detail


def test_gsm7_forced_with_a_plain_text_is_accepted(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/messages", json={"to": _number(), "text": "Plata in lei {}", "encoding": "gsm7"}
    )
    assert response.status_code == 202
    assert response.json()["encoding"] == "gsm7"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"validity": "64w"}, "63 weeks"),
        ({"validity": "soon"}, "validity:"),
        ({"validity": "0s"}, "validity: must be longer than zero"),
        ({"send_at": "2026-12-24T09:00:00"}, "no UTC offset"),
        ({"send_at": "tomorrow"}, "send_at:"),
        ({"send_at": "2099-01-01T00:00:00Z"}, "366 days"),
    ],
)
def test_bad_options_are_422_naming_the_option(
    client: httpx.Client, options: dict[str, str], expected: str
) -> None:
    response = client.post("/api/v1/messages", json={"to": _number(), "text": "x", **options})
    assert response.status_code == 422
    assert expected in response.json()["detail"]


def test_unknown_encoding_is_422(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/messages", json={"to": _number(), "text": "x", "encoding": "latin1"}
    )
    assert response.status_code == 422


def test_scheduled_messages_are_listed_and_cancelled(api: LiveApi, client: httpx.Client) -> None:
    peer = _number()
    when = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).isoformat()
    scheduled = client.post(
        "/api/v1/messages", json={"to": peer, "text": "later", "send_at": when}
    ).json()
    queued = client.post("/api/v1/messages", json={"to": peer, "text": "now"}).json()
    listed = client.get("/api/v1/messages", params={"status": "scheduled", "peer": peer}).json()
    assert [m["id"] for m in listed["messages"]] == [scheduled["id"]]
    cancelled = client.delete(f"/api/v1/messages/{scheduled['id']}")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert client.delete(f"/api/v1/messages/{queued['id']}").json()["status"] == "cancelled"
    again = client.delete(f"/api/v1/messages/{scheduled['id']}")
    assert again.status_code == 409
    assert "cancelled, no longer cancellable" in again.json()["detail"]
    listed = client.get("/api/v1/messages", params={"status": "scheduled", "peer": peer}).json()
    assert listed["messages"] == []


def test_a_sent_message_cannot_be_cancelled(api: LiveApi, client: httpx.Client) -> None:
    peer = _number()
    client.post("/api/v1/messages", json={"to": peer, "text": "goes", "modem": "huawei"})
    sent_id = api.run(send_and_deliver(api.services.db, modem="huawei", tp_mr=9, deliver=False))
    refused = client.delete(f"/api/v1/messages/{sent_id}")
    assert refused.status_code == 409
    assert "sent, no longer cancellable" in refused.json()["detail"]
    assert client.delete("/api/v1/messages/01NOSUCHMESSAGE").status_code == 404
    incoming = api.run(receive(api.services.db, sender=peer, text="hi"))
    assert client.delete(f"/api/v1/messages/{incoming}").status_code == 409
