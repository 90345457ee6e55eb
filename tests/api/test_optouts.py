"""GET/POST/DELETE /api/v1/optouts and the 409 for a send to a listed number."""

from __future__ import annotations

import uuid

import httpx
import pytest

pytestmark = pytest.mark.timeout(60)


def _number() -> str:
    return "+40723" + str(uuid.uuid4().int)[-6:]


def test_list_add_remove(client: httpx.Client) -> None:
    number = _number()
    national = "0" + number.removeprefix("+40")
    assert client.get(f"/api/v1/optouts/{number}").status_code == 404
    added = client.post("/api/v1/optouts", json={"number": national})
    assert added.status_code == 201
    assert added.json()["number"] == number
    assert added.json()["source"] == "api"
    assert client.post("/api/v1/optouts", json={"number": number}).status_code == 200
    assert client.get(f"/api/v1/optouts/{national}").json()["number"] == number
    listed = client.get("/api/v1/optouts").json()["optouts"]
    assert number in [entry["number"] for entry in listed]
    refused = client.post("/api/v1/messages", json={"to": number, "text": "promo"})
    assert refused.status_code == 409
    assert "opt-out list" in refused.json()["detail"]
    assert "added by api" in refused.json()["detail"]
    assert client.delete(f"/api/v1/optouts/{number}").status_code == 204
    assert client.delete(f"/api/v1/optouts/{number}").status_code == 404
    assert client.post("/api/v1/messages", json={"to": number, "text": "ok"}).status_code == 202


def test_bad_numbers_are_422(client: httpx.Client) -> None:
    assert client.post("/api/v1/optouts", json={"number": "nonsense"}).status_code == 422
    assert client.delete("/api/v1/optouts/12").status_code == 422
    assert client.get("/api/v1/optouts", params={"limit": 0}).status_code == 422


def test_metrics_count_refusals(client: httpx.Client) -> None:
    number = _number()
    client.post("/api/v1/optouts", json={"number": number})

    def refusals() -> float:
        for line in client.get("/metrics").text.splitlines():
            if line.startswith('smsgw_optout_refusals_total{path="api"}'):
                return float(line.split()[-1])
        return 0.0

    before = refusals()
    client.post("/api/v1/messages", json={"to": number, "text": "x"})
    client.post("/api/v1/messages", json={"to": number, "text": "y"})
    assert refusals() == before + 2
