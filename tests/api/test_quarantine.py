"""Quarantined inbound SMS through the API: listed newest first and paged, cleared one by
one, the last one resolving the modem's `quarantined` alert."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from smsgw.gateway.render import render_alert
from smsgw.models import WebhookEventKind
from smsgw.store import Database, repository
from smsgw.store.schema import webhook_outbox
from smsgw.store.types import QuarantineItem
from tests.api.live import live_api

pytestmark = pytest.mark.timeout(60)


async def keep(db: Database, modem: str, serial: int) -> int:
    item = QuarantineItem(
        modem=modem, storage="SM", storage_index=serial, pdu_hex=f"0011{serial:04X}", error="bad"
    )
    stored = await repository.quarantine_pdu(
        db, item, alert_detail="set aside", render=render_alert
    )
    return stored.id


async def alert_bodies(db: Database) -> list[dict[str, object]]:
    async with db.transaction("read alert events") as connection:
        rows = await connection.execute(
            sa.select(webhook_outbox.c.body)
            .where(webhook_outbox.c.kind == WebhookEventKind.MODEM_ALERT.value)
            .order_by(webhook_outbox.c.pk)
        )
        return [json.loads(bytes(row.body)) for row in rows]


def test_quarantine_is_listed_paged_and_cleared(tmp_path: Path) -> None:
    with (
        live_api(tmp_path) as api,
        httpx.Client(base_url=api.base_url, headers=api.headers, timeout=10) as client,
    ):
        db = api.services.db
        first, second = api.run(keep(db, "sim800", 1)), api.run(keep(db, "sim800", 2))
        other = api.run(keep(db, "huawei", 1))

        page = client.get("/api/v1/quarantine", params={"limit": 2}).json()
        assert [entry["id"] for entry in page["entries"]] == [other, second]
        assert page["next_before"] == second
        entry = page["entries"][1]
        assert entry["modem"] == "sim800"
        assert (entry["storage"], entry["index"], entry["pdu_hex"]) == ("SM", 2, "00110002")
        assert (entry["error"], entry["times_seen"]) == ("bad", 1)
        rest = client.get("/api/v1/quarantine", params={"before": second}).json()
        assert [entry["id"] for entry in rest["entries"]] == [first]
        assert rest["next_before"] is None
        only = client.get("/api/v1/quarantine", params={"modem": "huawei"}).json()
        assert [entry["id"] for entry in only["entries"]] == [other]

        # One alert per modem, however many entries.
        raised = api.run(alert_bodies(db))
        assert [(body["modem"], body["resolved"]) for body in raised] == [
            ("sim800", False),
            ("huawei", False),
        ]

        assert client.delete(f"/api/v1/quarantine/{first}").status_code == 200
        assert len(api.run(alert_bodies(db))) == 2  # sim800 still has one
        cleared = client.delete(f"/api/v1/quarantine/{second}")
        assert cleared.status_code == 200
        assert cleared.json()["id"] == second
        bodies = api.run(alert_bodies(db))
        assert [(body["modem"], body["alert"], body["resolved"]) for body in bodies] == [
            ("sim800", "quarantined", False),
            ("huawei", "quarantined", False),
            ("sim800", "quarantined", True),
        ]
        assert api.services.webhook_wakes == 2
        missing = client.delete(f"/api/v1/quarantine/{second}")
        assert missing.status_code == 404
        assert client.get("/api/v1/quarantine", params={"limit": 0}).status_code == 422


def test_quarantine_needs_the_api_key(tmp_path: Path) -> None:
    with live_api(tmp_path) as api, httpx.Client(base_url=api.base_url, timeout=10) as anonymous:
        assert anonymous.get("/api/v1/quarantine").status_code == 401
        assert anonymous.delete("/api/v1/quarantine/1").status_code == 401
