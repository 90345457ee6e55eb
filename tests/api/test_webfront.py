"""The daemon's HTTP front: probes are answered without the web stack, exactly as the full
application answers them, and the full application is built once, on first real use."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from smsgw import metrics
from smsgw.exceptions import StoreError
from smsgw.gateway.operations import GatewayOperations
from smsgw.mqtt.status import MqttStatus
from smsgw.webapp import create_app
from smsgw.webfront import App, WebFront

KEY = "k" * 32


class Probed:
    """The gateway as health sees it: `ready()` and, when [mqtt] is on, `mqtt.status()`."""

    def __init__(self, ready: bool | None, mqtt: MqttStatus | None = None) -> None:
        self._ready = ready
        self._mqtt = mqtt
        self.broken = False
        if mqtt is not None:
            self.mqtt = self

    def status(self) -> MqttStatus | None:
        return self._mqtt

    async def ready(self) -> tuple[bool, str]:
        if self.broken:
            raise RuntimeError("a bug in readiness")
        if self._ready is None:
            raise StoreError("sqlite:////secret/path/smsgw.db: disk I/O error")
        return self._ready, "ok" if self._ready else "no modem is READY"


class CountedBuild:
    def __init__(self, gateway: Any, *, fail_first: bool = False) -> None:
        self.gateway = gateway
        self.calls = 0
        self.fail_first = fail_first

    def __call__(self) -> App:
        self.calls += 1
        if self.fail_first and self.calls == 1:
            raise ImportError("No module named 'fastapi'")
        return create_app(self.gateway, KEY)


def _as_gateway(probed: Probed) -> GatewayOperations:
    """The full app's health routes call only `ready()` (and read `mqtt`)."""
    return cast("GatewayOperations", probed)


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://front")


MQTT = MqttStatus(
    broker="mqtt://ha:***@broker:1883",
    connected=False,
    published=7,
    failures=2,
    pending=3,
    last_error="connection refused",
)


@pytest.mark.parametrize(
    "gateway",
    [Probed(True), Probed(False), Probed(None), Probed(True, MQTT)],
    ids=["ready", "not-ready", "database-down", "with-mqtt"],
)
async def test_probes_are_answered_without_the_web_stack_exactly_as_the_full_app_does(
    gateway: Probed,
) -> None:
    build = CountedBuild(gateway)
    front_app = WebFront(gateway, build, public_metrics=True)
    async with _client(front_app) as front, _client(create_app(_as_gateway(gateway), KEY)) as full:
        for path in ("/health/live", "/health/ready"):
            direct, documented = await front.get(path), await full.get(path)
            assert (direct.status_code, direct.json()) == (
                documented.status_code,
                documented.json(),
            )
            assert direct.headers["content-type"] == documented.headers["content-type"]
    assert build.calls == 0
    assert "secret" not in direct.text
    assert "broker" not in direct.text


async def test_public_metrics_are_served_directly_and_count_the_probes() -> None:
    gateway = Probed(True)
    build = CountedBuild(gateway)
    async with _client(WebFront(gateway, build, public_metrics=True)) as front:
        await front.get("/health/ready")
        answer = await front.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == metrics.CONTENT_TYPE
    samples = {
        (sample.name, sample.labels.get("route"), sample.labels.get("status")): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }
    assert samples[("smsgw_api_requests_total", "/health/ready", "200")] >= 1
    assert build.calls == 0


async def test_private_metrics_need_the_key_so_they_go_through_the_full_app() -> None:
    gateway = Probed(True)
    build = CountedBuild(gateway)
    async with _client(WebFront(gateway, build, public_metrics=False)) as front:
        # The double has no settings, so the built app would serve /metrics publicly; what
        # matters here is that the front did not answer it on its own.
        await front.get("/metrics")
    assert build.calls == 1


async def test_the_full_app_is_built_once_for_concurrent_first_requests() -> None:
    gateway = Probed(True)
    build = CountedBuild(gateway)
    front_app = WebFront(gateway, build, public_metrics=True)
    assert not front_app.built
    async with _client(front_app) as front:
        answers = await asyncio.gather(*(front.get("/api/v1/modems") for _ in range(5)))
        docs = await front.get("/openapi.json")
    assert [answer.status_code for answer in answers] == [401] * 5  # the API's own auth
    assert docs.status_code == 200
    assert "/api/v1/messages" in docs.json()["paths"]
    assert build.calls == 1
    assert front_app.built


async def test_a_failed_build_is_a_logged_500_and_the_next_request_tries_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = Probed(True)
    build = CountedBuild(gateway, fail_first=True)
    async with _client(WebFront(gateway, build, public_metrics=True)) as front:
        with caplog.at_level(logging.ERROR, logger="smsgw.webfront"):
            failed = await front.get("/api/v1/modems")
        again = await front.get("/api/v1/modems")
        probe = await front.get("/health/live")
    assert failed.status_code == 500
    assert failed.json() == {"detail": "internal error (logged by the gateway)"}
    assert "could not be built" in caplog.text
    assert "fastapi" in caplog.text
    assert again.status_code == 401  # built now: the API answers for itself
    assert probe.status_code == 200
    assert build.calls == 2


async def test_a_failing_probe_is_a_logged_500_in_the_api_s_shape(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = Probed(True)
    gateway.broken = True
    build = CountedBuild(gateway)
    async with _client(WebFront(gateway, build, public_metrics=True)) as front:
        with caplog.at_level(logging.ERROR, logger="smsgw.webfront"):
            answer = await front.get("/health/ready")
        live = await front.get("/health/live")
    assert answer.status_code == 500
    assert answer.json() == {"detail": "internal error (logged by the gateway)"}
    assert "GET /health/ready failed" in caplog.text
    assert "a bug in readiness" in caplog.text  # the traceback is in the log, not the answer
    assert live.status_code == 200
    assert build.calls == 0
