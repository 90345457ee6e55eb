"""POST/GET /api/v1/messages and GET /api/v1/modems through a live server."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from smsgw.store import repository
from tests.api.live import LiveApi, live_api, receive, send_and_deliver

pytestmark = pytest.mark.timeout(60)


def _unique_number() -> str:
    """A valid Romanian mobile number nobody else in this module uses."""
    return "+40721" + str(uuid.uuid4().int)[-6:]


def test_send_normalises_a_national_number_and_queues(client: httpx.Client) -> None:
    response = client.post("/api/v1/messages", json={"to": "0721 000 123", "text": "Hello"})
    assert response.status_code == 202
    body = response.json()
    assert body["to"] == "+40721000123"
    assert body["status"] == "queued"
    assert body["parts"] == 1
    assert body["encoding"] == "gsm7"
    assert body["created"] is True
    detail = client.get(f"/api/v1/messages/{body['id']}").json()
    assert detail["status"] == "queued"
    assert detail["peer"] == "+40721000123"
    assert detail["direction"] == "out"
    assert [part["seq"] for part in detail["part_detail"]] == [1]
    assert detail["history"][0]["status"] == "queued"


def test_send_counts_parts_like_the_encoder(client: httpx.Client) -> None:
    response = client.post("/api/v1/messages", json={"to": _unique_number(), "text": "ă" * 71})
    assert response.status_code == 202
    assert response.json()["parts"] == 2
    assert response.json()["encoding"] == "ucs2"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"to": "12", "text": "hi"}, "to:"),
        ({"to": "+40 721", "text": "hi"}, "to:"),
        ({"to": "not a number", "text": "hi"}, "not a phone number"),
        ({"to": "", "text": "hi"}, "empty"),
        ({"to": "0212345", "text": "hi"}, "read as RO numbers"),
        ({"to": "+40721000000", "text": ""}, "text: the message is empty"),
        ({"to": "+40721000000", "text": "  \n "}, "text: the message is empty"),
        ({"to": "+40721000000", "text": "x" * 153 * 7}, "limits.max_parts = 6"),
        ({"to": "+40721000000", "text": "a\x00b"}, "NUL"),
        ({"to": "+40721000000", "text": "hi", "modem": "nope"}, "unknown modem"),
    ],
)
def test_send_refuses_bad_input_with_a_clear_422(
    client: httpx.Client, payload: dict[str, object], expected: str
) -> None:
    response = client.post("/api/v1/messages", json=payload)
    assert response.status_code == 422, response.text
    assert expected in response.json()["detail"]


def test_lone_surrogate_in_text_is_a_422(client: httpx.Client) -> None:
    raw = b'{"to": "+40721000000", "text": "\\ud800 broken"}'
    response = client.post(
        "/api/v1/messages", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "unicode" in str(response.json()["detail"]).lower()


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[]", b'{"text": "hi"}', b'{"to": 5, "text": "hi"}', b"", b"\xff\xfe"],
)
def test_malformed_bodies_are_422_with_a_detail_list(client: httpx.Client, raw: bytes) -> None:
    response = client.post(
        "/api/v1/messages", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    assert all({"loc", "msg", "type"} <= set(error) for error in detail)


def test_idempotency_key_returns_the_first_message(client: httpx.Client) -> None:
    key = {"Idempotency-Key": f"order-{uuid.uuid4()}"}
    first = client.post("/api/v1/messages", json={"to": _unique_number(), "text": "a"}, headers=key)
    again = client.post("/api/v1/messages", json={"to": _unique_number(), "text": "b"}, headers=key)
    other = client.post(
        "/api/v1/messages",
        json={"to": _unique_number(), "text": "a"},
        headers={"Idempotency-Key": f"order-{uuid.uuid4()}"},
    )
    assert first.status_code == other.status_code == 202
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["created"] is False
    assert other.json()["id"] != first.json()["id"]


def test_api_idempotency_keys_cannot_collide_with_auto_replies(
    api: LiveApi, client: httpx.Client
) -> None:
    event_key = f"auto-reply:{uuid.uuid4()}"
    auto_reply = api.run(
        repository.enqueue_outgoing(
            api.services.db,
            peer="+40721000999",
            text="auto",
            parts=1,
            encoding="gsm7",
            idempotency_key=event_key,
        )
    )
    response = client.post(
        "/api/v1/messages",
        json={"to": "+40721000999", "text": "from the API"},
        headers={"Idempotency-Key": event_key},
    )
    assert response.status_code == 202
    assert response.json()["created"] is True
    assert response.json()["id"] != auto_reply.message.id


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_unusable_idempotency_key_is_422(client: httpx.Client, key: str) -> None:
    response = client.post(
        "/api/v1/messages",
        json={"to": "+40721000000", "text": "hi"},
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]


def test_message_detail_follows_the_delivery(tmp_path: Path) -> None:
    with (
        live_api(tmp_path) as api,
        httpx.Client(base_url=api.base_url, headers=api.headers, timeout=10) as client,
    ):
        body = {"to": _unique_number(), "text": "track me", "modem": "huawei"}
        sent = client.post("/api/v1/messages", json=body).json()
        delivered = send_and_deliver(api.services.db, modem="huawei", tp_mr=77, deliver=True)
        assert api.run(delivered) == sent["id"]
        detail = client.get(f"/api/v1/messages/{sent['id']}").json()
    assert detail["status"] == "delivered"
    assert detail["modem"] == "huawei"
    assert detail["part_detail"][0]["reference"] == 77
    assert detail["part_detail"][0]["status"] == "delivered"
    assert detail["part_detail"][0]["report_status"] == 0
    statuses = [event["status"] for event in detail["history"] if event["part"] is None]
    assert statuses[0] == "queued"
    assert statuses[-2:] == ["sent", "delivered"]


def test_unknown_message_is_a_json_404(client: httpx.Client) -> None:
    response = client.get("/api/v1/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert response.status_code == 404
    assert "01ARZ3NDEKTSV4RRFFQ69G5FAV" in response.json()["detail"]


def test_list_is_newest_first_filtered_and_paged(api: LiveApi, client: httpx.Client) -> None:
    peer = _unique_number()
    incoming = api.run(receive(api.services.db, sender=peer, text="question"))
    out_ids = [
        client.post("/api/v1/messages", json={"to": peer, "text": f"answer {n}"}).json()["id"]
        for n in range(3)
    ]
    national = "0" + peer[3:]
    everything = client.get("/api/v1/messages", params={"peer": national}).json()
    assert [m["id"] for m in everything["messages"]] == [*reversed(out_ids), incoming]
    assert everything["next_before"] is None

    only_in = client.get("/api/v1/messages", params={"peer": peer, "direction": "in"}).json()
    assert [m["id"] for m in only_in["messages"]] == [incoming]
    assert only_in["messages"][0]["status"] is None

    pages: list[str] = []
    before: str | None = None
    while True:
        params: dict[str, str | int] = {"peer": peer, "limit": 3}
        if before is not None:
            params["before"] = before
        page = client.get("/api/v1/messages", params=params).json()
        pages += [m["id"] for m in page["messages"]]
        before = page["next_before"]
        if before is None:
            break
    assert pages == [m["id"] for m in everything["messages"]]


@pytest.mark.parametrize(
    "params",
    [
        {"before": "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
        {"limit": 0},
        {"limit": 1001},
        {"limit": "many"},
        {"direction": "sideways"},
        {"peer": "x" * 65},
    ],
)
def test_list_refuses_bad_parameters_with_422(
    client: httpx.Client, params: dict[str, object]
) -> None:
    response = client.get("/api/v1/messages", params=params)  # type: ignore[arg-type]
    assert response.status_code == 422
    assert response.json()["detail"]


def test_modems_are_listed(client: httpx.Client) -> None:
    modems = client.get("/api/v1/modems").json()["modems"]
    assert [modem["name"] for modem in modems] == ["sim800", "huawei"]
    first = modems[0]
    assert first["state"] == "ready"
    assert first["signal_dbm"] == -73
    assert first["port"] == "/dev/ttyFAKE0"
    assert "today" in first["counters"]


def test_daily_limit_is_a_429(tmp_path: Path) -> None:
    with (
        live_api(tmp_path, daily_per_modem=1) as api,
        httpx.Client(base_url=api.base_url, headers=api.headers, timeout=10) as http,
    ):
        body = {"to": "+40721000001", "text": "one", "modem": "sim800"}
        assert http.post("/api/v1/messages", json=body).status_code == 202
        api.run(send_and_deliver(api.services.db, modem="sim800", tp_mr=1, deliver=False))
        response = http.post("/api/v1/messages", json=body)
        assert response.status_code == 429
        assert "daily limit" in response.json()["detail"]


def test_database_outage_is_a_503_not_a_crash(tmp_path: Path) -> None:
    with (
        live_api(tmp_path) as api,
        httpx.Client(base_url=api.base_url, headers=api.headers, timeout=10) as http,
    ):
        (tmp_path / "api.db").unlink()
        (tmp_path / "api.db").mkdir()  # the file is now a directory: SQLite cannot open it
        api.run(api.services.db.close())
        response = http.get("/api/v1/messages")
        assert response.status_code == 503
        assert response.json()["detail"].startswith("database unavailable")
