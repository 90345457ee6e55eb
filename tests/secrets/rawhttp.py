"""HTTP/1.1 by hand over a socket, for bodies no well-behaved client would send: a server
that refuses a body early closes the connection while the client is still writing, and the
answer must be read anyway."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Iterator

CHUNK = b"a=" + b"x" * (256 * 1024 - 2)


def request(port: int, head: str, body_chunks: Iterable[bytes] = ()) -> bytes:
    """Send `head`, then as much of the body as the server takes; return its answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall(head.encode("ascii"))
        try:
            for chunk in body_chunks:
                conn.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # refused mid-body: the answer is already waiting
        answer = b""
        try:
            while data := conn.recv(65536):
                answer += data
                if b"\r\n\r\n" in answer and b'"}' in answer:
                    break
        except (ConnectionResetError, TimeoutError):
            pass
    return answer


def body(size: int) -> Iterator[bytes]:
    sent = 0
    while sent < size:
        chunk = CHUNK[: size - sent]
        sent += len(chunk)
        yield chunk


def chunked(size: int) -> Iterator[bytes]:
    for chunk in body(size):
        yield f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    yield b"0\r\n\r\n"


def post(path: str, *, length: int | None, extra: str = "") -> str:
    """A POST head with Content-Length `length`, or chunked when it is None."""
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n{extra}{framing}\r\n\r\n"
    )
