"""Hostile clients and a wrong SIM PIN against the real daemon (`smsgw run` in a subprocess).

* huge bodies: 300 MB sign-in, sign-out and send bodies, declared and chunked, are refused
  with 413 while the daemon's RSS stays flat (the unbounded read grew it to 671 MB);
* key guessing: a burst of wrong API keys from one client is answered 429 after the free
  tries, and logged once;
* a wrong SIM PIN: the modem is FAILED with a reason that says so, and the PIN is in no
  log line, API answer, inbox page or database byte.

Each case prints its FAULTS line.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from smsgw.emulator import DeviceOptions, EmulatedModem
from tests.faults.rig import API_KEY, Daemon, emulated_modems, write_config
from tests.faults.scale import counts_line
from tests.secrets import rawhttp

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

HUGE = 300 * 1024 * 1024
GUESSES = 200
WRONG_PIN = "90517364"


async def test_huge_bodies_and_key_guessing_against_the_daemon(tmp_path: Path) -> None:
    async with emulated_modems(tmp_path, ["sim0"]) as modems:
        emulator, _ = modems["sim0"]
        config = write_config(tmp_path, webhook_url="", modems={"sim0": emulator.link})
        daemon = Daemon(config, tmp_path / "daemon.log")
        await daemon.start()
        try:
            port = int(daemon.base.rsplit(":", 1)[1])
            # The API and the inbox are built on the first request that needs them (about
            # 10 MB): load them first, so the growth below is the hostile bodies' alone.
            async with httpx.AsyncClient(base_url=daemon.base, timeout=30) as client:
                loaded = await client.get("/api/v1/modems", headers={"X-API-Key": API_KEY})
            assert loaded.status_code == 200, loaded.text
            before = daemon.rss_mb()
            key = f"X-API-Key: {API_KEY}\r\n"
            bodies = [
                (rawhttp.post("/ui/login", length=HUGE), rawhttp.body(HUGE)),
                (rawhttp.post("/ui/logout", length=None), rawhttp.chunked(HUGE)),
                (rawhttp.post("/api/v1/messages", length=None, extra=key), rawhttp.chunked(HUGE)),
            ]
            answers = [
                await asyncio.to_thread(rawhttp.request, port, head, chunks)
                for head, chunks in bodies
            ]
            growth = daemon.rss_mb() - before
            refused = sum(answer.startswith(b"HTTP/1.1 413") for answer in answers)
            async with httpx.AsyncClient(base_url=daemon.base, timeout=5) as client:
                statuses = [
                    (
                        await client.get("/api/v1/modems", headers={"X-API-Key": f"guess-{n}"})
                    ).status_code
                    for n in range(GUESSES)
                ]
                still_up = (await client.get("/health/live")).status_code
        finally:
            await daemon.stop()
    burst_lines = len(re.findall(r"wrong API key from 127\.0\.0\.1", daemon.tail(10**7)))
    counts_line(
        "hostile_http",
        huge_bodies=len(bodies),
        refused_413=refused,
        rss_growth_mb=round(growth, 1),
        guesses=GUESSES,
        answered_401=statuses.count(401),
        answered_429=statuses.count(429),
        log_lines=burst_lines,
    )
    assert refused == len(bodies), [answer[:80] for answer in answers]
    assert growth < 20
    assert statuses.count(401) == 5
    assert statuses.count(429) == GUESSES - 5
    assert burst_lines == 1
    assert still_up == 200


async def test_a_wrong_sim_pin_leaks_nowhere(tmp_path: Path) -> None:
    options = DeviceOptions(boot_scale=0.0, pin="4821", noise_interval=0)
    # Not `emulated_modems`: a SIM waiting for its PIN never says "SMS Ready".
    async with EmulatedModem("sim800", tmp_path / "sim0", options=options) as emulator:
        config = write_config(
            tmp_path, webhook_url="", modems={"sim0": emulator.link},
            modem_extra=f'pin = "{WRONG_PIN}"',
        )  # fmt: skip
        daemon = Daemon(config, tmp_path / "daemon.log")
        await daemon.spawn()
        try:
            headers = {"X-API-Key": API_KEY}
            async with httpx.AsyncClient(base_url=daemon.base, timeout=5) as client:
                answers: list[str] = []

                async def failed() -> bool:
                    try:
                        answer = await client.get("/api/v1/modems", headers=headers)
                    except httpx.HTTPError:
                        return False
                    answers.append(answer.text)
                    return answer.is_success and answer.json()["modems"][0]["state"] == "failed"

                async with asyncio.timeout(60):
                    while not await failed():  # noqa: ASYNC110 - polling another process
                        await asyncio.sleep(0.2)
                form = await client.get("/ui/login")
                token = re.search(r'name="login_token" value="([^"]+)"', form.text)
                assert token is not None
                await client.post(
                    "/ui/login", data={"login_token": token.group(1), "api_key": API_KEY}
                )
                pages = [(await client.get(path)).text for path in ("/ui/modems", "/health/ready")]
        finally:
            await daemon.stop()
    log = daemon.tail(10**7)
    stored = _database_bytes(tmp_path)
    leaks = {
        "log": WRONG_PIN in log,
        "api": any(WRONG_PIN in answer for answer in answers),
        "pages": any(WRONG_PIN in page for page in pages),
        "database": WRONG_PIN.encode() in stored,
    }
    counts_line("wrong_pin", reason_says_pin="PIN" in answers[-1], **leaks)
    assert "PIN" in answers[-1]
    assert "rejected" in log
    assert not any(leaks.values()), leaks


def _database_bytes(directory: Path) -> bytes:
    """The SQLite file and its WAL, raw: a PIN in any row or free page would be in here."""
    return b"".join(p.read_bytes() for p in directory.glob("smsgw.db*") if p.is_file())
