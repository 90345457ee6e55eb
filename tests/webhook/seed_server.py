"""Run a seed example (Flask, Express) unchanged as a real process on a loopback port.

Both seed tests need the same thing: start the user's server, wait until it accepts
connections (failing with its log if it dies or never listens), and stop it afterwards.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest


@contextlib.contextmanager
def serving(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], port: int, log: Path, name: str
) -> Iterator[None]:
    """Run `argv` until the block ends; its output goes to `log`."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the seed {name} app did not start:\n{log.read_text()}")
                time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)
