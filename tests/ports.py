"""Loopback ports for the servers tests start (webhooks, the daemon's API, seed examples)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on right now (released again before the server binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
