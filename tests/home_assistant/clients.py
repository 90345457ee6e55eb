"""Debian's `mosquitto_pub`/`mosquitto_sub`: MQTT clients that are neither smsgw nor Home
Assistant, so the harness test shows what Home Assistant does with a message nobody else
shaped. Synchronous on purpose: the Home Assistant tests have no event loop to share."""

from __future__ import annotations

import select
import shutil
import subprocess
import time

#: What `subscribe` publishes to learn that its subscriber is live.
PROBE = "smsgw-test-probe"


def missing() -> str | None:
    """Why the clients cannot run here, or None."""
    for name in ("mosquitto_pub", "mosquitto_sub"):
        if shutil.which(name) is None:
            return f"{name} is not installed (Debian: apt-get install mosquitto-clients)"
    return None


def publish(port: int, topic: str, payload: str, *, retain: bool = False) -> None:
    """One QoS 1 message to the broker on 127.0.0.1:`port`; "" is an empty payload."""
    command = ["mosquitto_pub", "-p", str(port), "-q", "1", "-t", topic]
    if retain:
        command.append("-r")
    command += ["-n"] if payload == "" else ["-m", payload]
    subprocess.run(command, check=True, timeout=10)


def subscribe(port: int, topic: str, within: float = 10.0) -> subprocess.Popen[str]:
    """`mosquitto_sub` printing each payload on a line, returned once it is subscribed.

    Readiness is proven, not assumed: a probe payload is published until the subscriber
    prints it back (callers skip `PROBE` lines). The caller stops the process.
    """
    process = subprocess.Popen(
        ["mosquitto_sub", "-p", str(port), "-q", "1", "-t", topic],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        publish(port, topic, PROBE)
        readable, _, _ = select.select([process.stdout], [], [], 0.2)
        if readable and process.stdout.readline().strip() == PROBE:
            return process
    process.kill()
    process.wait()
    raise RuntimeError(f"mosquitto_sub did not receive on {topic} within {within}s")
