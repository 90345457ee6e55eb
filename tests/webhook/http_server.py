"""A real HTTP server on 127.0.0.1 for webhook tests, answering with a scripted responder.

Runs `http.server` in a thread (each request in its own thread), so a deliberately slow
answer for one request does not hold up another, just as with a real multi-worker server.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class Received:
    """One request as it arrived on the wire."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    started: float
    index: int  # arrival order, 0-based

    def json(self) -> dict[str, Any]:
        document = json.loads(self.body)
        assert isinstance(document, dict)
        return document


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def json(document: object, status: int = 200, delay: float = 0.0) -> Answer:
        return Answer(
            status, json.dumps(document).encode(), delay, (("Content-Type", "application/json"),)
        )


Responder = Callable[[Received], Answer]


class _Server(http.server.ThreadingHTTPServer):
    # The stdlib default backlog (5) resets connections when many POSTs start at once.
    request_queue_size = 128


class WebhookServer:
    """Records every request and answers with `responder(request)`."""

    def __init__(self, responder: Responder, *, port: int = 0) -> None:
        self.responder = responder
        self.received: list[Received] = []
        self.concurrent = 0
        self.max_concurrent = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.got_request = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the body waits for the
            # client's delayed ACK (40 ms on Linux) and every answer with a body looks slow.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                outer._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = _Server(("127.0.0.1", port), Handler)  # a fixed port: "back up" tests
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/sms-webhook"

    def _handle(self, request: http.server.BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length", "0"))
        body = request.rfile.read(length)
        if len(body) < length:
            # The client died mid-request (a kill -9 test): like any real server, drop the
            # torn request instead of recording and answering a truncated body.
            request.close_connection = True
            return
        with self._lock:
            received = Received(
                request.command,
                request.path,
                {name.lower(): value for name, value in request.headers.items()},
                body,
                time.monotonic(),
                len(self.received),
            )
            self.received.append(received)
            self.concurrent += 1
            self.max_concurrent = max(self.max_concurrent, self.concurrent)
        self.got_request.set()
        try:
            answer = self.responder(received)
            if answer.delay:
                self._stopping.wait(answer.delay)
        finally:
            with self._lock:
                self.concurrent -= 1
        try:
            request.send_response(answer.status)
            for name, value in answer.headers:
                request.send_header(name, value)
            request.send_header("Content-Length", str(len(answer.body)))
            request.end_headers()
            request.wfile.write(answer.body)
        except OSError:
            pass  # the client gave up (timeout tests)

    def __enter__(self) -> WebhookServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
