"""Dead-lettered webhook events: listed and retried through the API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from smsgw.store import Database, repository
from tests.api.live import live_api
from tests.store_helpers import dead_letter, queue_event

pytestmark = pytest.mark.timeout(60)


async def _dead_event(db: Database, event_id: str, peer: str) -> int:
    body = json.dumps({"type": "sms_status", "smsId": event_id, "status": "sent"}).encode()
    entry = await queue_event(db, event_id, peer, body=body)
    claimed = await repository.claim_due_events(db, node="test-node", limit=1)
    assert [c.id for c in claimed] == [entry.id]
    assert await dead_letter(db, entry.id, error="HTTP 500 for 48h")
    return entry.id


def test_dead_letters_are_listed_paged_and_retried(tmp_path: Path) -> None:
    with (
        live_api(tmp_path) as api,
        httpx.Client(base_url=api.base_url, headers=api.headers, timeout=10) as client,
    ):
        first = api.run(_dead_event(api.services.db, "E1.sent", "+40721000001"))
        second = api.run(_dead_event(api.services.db, "E2.sent", "+40721000002"))

        page = client.get("/api/v1/webhook/dead-letters", params={"limit": 1}).json()
        assert [event["id"] for event in page["events"]] == [second]
        assert page["next_before"] == second
        event = page["events"][0]
        assert event["payload"] == {"type": "sms_status", "smsId": "E2.sent", "status": "sent"}
        assert event["last_error"] == "HTTP 500 for 48h"
        assert event["kind"] == "sms_status"
        older = client.get(
            "/api/v1/webhook/dead-letters", params={"before": page["next_before"]}
        ).json()
        assert [event["id"] for event in older["events"]] == [first]
        assert older["next_before"] is None

        assert api.services.webhook_wakes == 0
        retried = client.post(f"/api/v1/webhook/dead-letters/{first}/retry")
        assert retried.status_code == 202
        assert retried.json() == {"id": first, "status": "pending"}
        assert api.services.webhook_wakes == 1  # posted now, not at the next idle poll
        remaining = client.get("/api/v1/webhook/dead-letters").json()["events"]
        assert [event["id"] for event in remaining] == [second]
        again = client.post(f"/api/v1/webhook/dead-letters/{first}/retry")
        assert again.status_code == 404
        assert api.services.webhook_wakes == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/webhook/dead-letters?limit=0"),
        ("GET", "/api/v1/webhook/dead-letters?before=-1"),
        ("GET", "/api/v1/webhook/dead-letters?before=99999999999999999999999"),
        ("POST", "/api/v1/webhook/dead-letters/abc/retry"),
        ("POST", "/api/v1/webhook/dead-letters/0/retry"),
    ],
)
def test_bad_dead_letter_parameters_are_422(client: httpx.Client, method: str, path: str) -> None:
    assert client.request(method, path).status_code == 422
