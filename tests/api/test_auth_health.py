"""Auth on every /api/ route and the unauthenticated health, metrics and docs routes."""

from __future__ import annotations

import httpx
import pytest

from tests.api.live import LiveApi

pytestmark = pytest.mark.timeout(60)

API_ROUTES = [
    ("POST", "/api/v1/messages"),
    ("GET", "/api/v1/messages"),
    ("GET", "/api/v1/messages/01HZZZZZZZZZZZZZZZZZZZZZZZ"),
    ("GET", "/api/v1/modems"),
    ("GET", "/api/v1/webhook/dead-letters"),
    ("POST", "/api/v1/webhook/dead-letters/1/retry"),
    ("GET", "/api/v2/nonexistent"),
]


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
def test_api_routes_refuse_a_missing_key(anonymous: httpx.Client, method: str, path: str) -> None:
    response = anonymous.request(method, path, json={"to": "+40721000000", "text": "x"})
    assert response.status_code == 401
    assert "X-API-Key" in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "wrong"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic dGVzdDp0ZXN0"},
        {"X-API-Key": ""},
    ],
)
def test_api_routes_refuse_a_wrong_key(
    anonymous: httpx.Client, method: str, path: str, headers: dict[str, str]
) -> None:
    response = anonymous.request(method, path, headers=headers)
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)


def test_a_key_prefix_is_not_enough(api: LiveApi, anonymous: httpx.Client) -> None:
    for almost in (api.key[:-1], api.key + "x", api.key.upper()):
        response = anonymous.get("/api/v1/modems", headers={"X-API-Key": almost})
        assert response.status_code == 401


def test_unauthenticated_client_learns_nothing_about_the_body(anonymous: httpx.Client) -> None:
    response = anonymous.post(
        "/api/v1/messages", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "headers_for",
    [
        lambda key: {"X-API-Key": key},
        lambda key: {"Authorization": f"Bearer {key}"},
        lambda key: {"Authorization": f"bearer {key}"},
    ],
)
def test_both_key_headers_are_accepted(
    api: LiveApi, anonymous: httpx.Client, headers_for: object
) -> None:
    assert callable(headers_for)
    response = anonymous.get("/api/v1/modems", headers=headers_for(api.key))
    assert response.status_code == 200


def test_liveness_needs_no_key(anonymous: httpx.Client) -> None:
    response = anonymous.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_reflects_the_gateway(api: LiveApi, anonymous: httpx.Client) -> None:
    assert anonymous.get("/health/ready").json() == {"ready": True, "reason": "ok"}
    api.services.is_ready = False
    try:
        response = anonymous.get("/health/ready")
        assert response.status_code == 503
        assert response.json() == {"ready": False, "reason": "no modem is READY"}
    finally:
        api.services.is_ready = True


def test_metrics_are_prometheus_text_and_count_requests(
    client: httpx.Client, anonymous: httpx.Client
) -> None:
    client.get("/api/v1/modems")
    response = anonymous.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE smsgw_messages_out_total counter" in text
    assert "# TYPE smsgw_webhook_latency_seconds histogram" in text
    assert "process_resident_memory_bytes" in text
    assert 'smsgw_api_requests_total{method="GET",route="/api/v1/modems",status="200"}' in text


def test_metrics_never_label_raw_paths(client: httpx.Client, anonymous: httpx.Client) -> None:
    client.get("/api/v1/messages/SOMEIDTHATISUNIQUE42")
    text = anonymous.get("/metrics").text
    assert "SOMEIDTHATISUNIQUE42" not in text
    assert 'route="/api/v1/messages/{message_id}"' in text


def test_docs_and_openapi_are_served(anonymous: httpx.Client) -> None:
    schema = anonymous.get("/openapi.json").json()
    assert {"/api/v1/messages", "/api/v1/messages/{message_id}", "/api/v1/modems"} <= set(
        schema["paths"]
    )
    schemes = schema["components"]["securitySchemes"]
    assert {"APIKeyHeader", "HTTPBearer"} <= set(schemes)
    docs = anonymous.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_unknown_route_is_a_json_404(anonymous: httpx.Client) -> None:
    response = anonymous.get("/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
