"""Bodies are bounded before they are read, on a real uvicorn server process; its access log
prints no query strings."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from smsgw.api.limits import MAX_BODY_BYTES
from tests.api.live import API_KEY
from tests.secrets import rawhttp

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]
BIG = 50 * 1024 * 1024


class Server:
    def __init__(self, process: subprocess.Popen[str], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])

    def request(self, head: str, body_chunks: Iterable[bytes] = ()) -> bytes:
        return rawhttp.request(self.port, head, body_chunks)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("served")
    log = directory / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.secrets.served", str(directory)],
            cwd=REPO,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        port_file = directory / "port"
        deadline = time.monotonic() + 30
        while not port_file.exists():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield Server(process, int(port_file.read_text()), log)
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_a_50_mb_sign_in_body_is_refused_and_memory_stays_flat(server: Server) -> None:
    before = server.rss_kib()
    answers = [
        server.request(rawhttp.post("/ui/login", length=BIG), rawhttp.body(BIG)),
        server.request(rawhttp.post("/ui/logout", length=None), rawhttp.chunked(BIG)),
        server.request(
            rawhttp.post("/api/v1/messages", length=None, extra=f"X-API-Key: {API_KEY}\r\n"),
            rawhttp.chunked(BIG),
        ),
    ]
    time.sleep(0.2)
    growth_mib = (server.rss_kib() - before) / 1024
    print(f"RSS growth after three 50 MB bodies: {growth_mib:.1f} MiB")
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert growth_mib < 20, f"RSS grew by {growth_mib:.1f} MiB"


def test_a_body_within_the_limit_still_reaches_the_route(server: Server) -> None:
    small = b"login_token=x&api_key=y"
    answer = server.request(rawhttp.post("/ui/login", length=len(small)), iter([small]))
    assert answer.startswith(b"HTTP/1.1 400")  # the form's own check: no login cookie
    assert MAX_BODY_BYTES >= 16 * 1024


def test_the_access_log_prints_no_query_string(server: Server) -> None:
    secret = "qs-secret-4471"
    head = f"GET /health/live?api_key={secret} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    answer = server.request(head)
    assert answer.startswith(b"HTTP/1.1 200")
    deadline = time.monotonic() + 5
    while "/health/live" not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    logged = server.log.read_text()
    assert "GET /health/live?… HTTP/1.1" in logged
    assert secret not in logged
