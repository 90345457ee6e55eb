"""REST API throughput through a real uvicorn server over SQLite (`make bench`).

Why it matters: the API must never be what limits sending (a GSM modem sends well under one
SMS per second), and a burst of API sends must not stall the event loop the modems share.
The server is the test harness's (tests.api.live): real create_app, real store, no modems.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import Result
from tests.api.live import live_api

SENDS = 300
READS = 300


def _timed(client: httpx.Client, count: int, request: object) -> list[float]:
    assert callable(request)
    latencies = []
    for index in range(count):
        start = time.perf_counter()
        response = request(client, index)
        latencies.append(time.perf_counter() - start)
        assert response.status_code in (200, 202), response.text
    return latencies


def _figures(name: str, latencies: list[float], target: str) -> list[Result]:
    ordered = sorted(latencies)
    return [
        Result(
            f"api {name} rate",
            len(latencies) / sum(latencies),
            "req/s",
            target,
            {"requests": len(latencies), "client": "sequential, keep-alive"},
        ),
        Result(f"api {name} p50", statistics.median(ordered) * 1000, "ms"),
        Result(f"api {name} p99", ordered[int(len(ordered) * 0.99) - 1] * 1000, "ms"),
    ]


def run() -> list[Result]:
    with (
        tempfile.TemporaryDirectory() as directory,
        live_api(Path(directory)) as api,
        httpx.Client(base_url=api.base_url, headers=api.headers, timeout=10) as client,
    ):
        sends = _timed(
            client,
            SENDS,
            lambda http, n: http.post(
                "/api/v1/messages", json={"to": f"+4072100{n:04d}", "text": f"bench {n}"}
            ),
        )
        reads = _timed(
            client, READS, lambda http, n: http.get("/api/v1/messages", params={"limit": 50})
        )
    return [
        *_figures("POST /api/v1/messages", sends, ">= 100 req/s (a modem sends < 1 SMS/s)"),
        *_figures("GET /api/v1/messages?limit=50", reads, ">= 100 req/s"),
    ]
