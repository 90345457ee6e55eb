"""The real `gammu` CLI, unchanged, against the emulator on a pty (both personas).

One `gammu --batch` run per profile (identify, getallsms, sendsms) keeps this bounded:
gammu spends ~3 s on its own start-up handshake per invocation.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from smsgw.emulator import DeviceOptions, EmulatedModem

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(shutil.which("gammu") is None, reason="gammu CLI not installed"),
]

EMOJI_TEXT = "Zdravo 😀 Привет! " * 9  # UCS-2 with surrogate pairs, 3 parts


async def run_gammu(config: Path, batch: str) -> str:
    process = await asyncio.create_subprocess_exec(
        "gammu", "-c", str(config), "--batch",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    async with asyncio.timeout(45):
        output, _ = await process.communicate(batch.encode())
    text = output.decode("utf-8", errors="replace")
    assert process.returncode == 0, text
    return text


@pytest.mark.parametrize(
    ("profile", "manufacturer", "model"),
    [("sim800", "SIMCOM_Ltd", "SIMCOM_SIM800L"), ("huawei", "Huawei", "E1752")],
)
async def test_gammu_identify_getallsms_sendsms(
    tmp_path: Path, profile: str, manufacturer: str, model: str
) -> None:
    link = tmp_path / "modem"
    config = tmp_path / "gammurc"
    config.write_text(f"[gammu]\ndevice = {link}\nconnection = at\n")
    options = DeviceOptions(noise_interval=0, boot_scale=0.2, cmgs_delay=0.2)
    control = tmp_path / "modem.ctl"
    async with EmulatedModem(profile, link, control=control, options=options) as modem:
        async with asyncio.timeout(5):
            await modem.wait_ready()
        await modem.deliver("+40721000000", "Hello from the network")
        assert len(await modem.deliver("+40721000001", EMOJI_TEXT)) == 3

        output = await run_gammu(
            config,
            'identify\ngetallsms\nsendsms TEXT +40721000009 -text "Reply from gammu"\n',
        )

        assert re.search(rf"Manufacturer\s+: {manufacturer}", output), output
        assert model in output
        assert "Hello from the network" in output
        assert "4 SMS parts in 4 SMS sequences" in output
        parts = re.findall(r"part (\d) of 3\n\n(.*)\n", output)
        assert [number for number, _ in parts] == ["1", "2", "3"]
        assert "".join(text for _, text in parts) == EMOJI_TEXT
        assert "OK, message reference=0" in output
        listing = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smsgw", "emulator", "sent", "--control", str(control),
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        stdout, _ = await listing.communicate()
        sent = [json.loads(line) for line in stdout.decode().splitlines()]
        assert [(m["recipient"], m["text"], m["parts"]) for m in sent] == [
            ("+40721000009", "Reply from gammu", 1)
        ]


@pytest.mark.parametrize(
    ("profile", "network"),
    [
        ("sim800", "226 10 (Orange, Romania), LAC 1A2B, CID 3C4D"),
        ("huawei", "226 01 (Vodafone, Romania), LAC 4CA, CID 81DE445"),
    ],
)
async def test_gammu_networkinfo_and_getallsms_in_text_mode(
    tmp_path: Path, profile: str, network: str
) -> None:
    """A text-mode-only firmware: gammu falls back to AT+CMGF=1 with AT+CSDH=1 and reads
    the long headers; UCS-2 multipart parts come as hex of their user data (27.005)."""
    link = tmp_path / "modem"
    config = tmp_path / "gammurc"
    config.write_text(f"[gammu]\ndevice = {link}\nconnection = at\n")
    options = DeviceOptions(noise_interval=0, boot_scale=0.2, pdu_mode=False)
    async with EmulatedModem(profile, link, options=options) as modem:
        async with asyncio.timeout(5):
            await modem.wait_ready()
        await modem.deliver("+40721000000", "Hello in text mode")
        assert len(await modem.deliver("+40721000001", EMOJI_TEXT)) == 3

        output = await run_gammu(config, "networkinfo\ngetallsms\n")

        assert modem.device.state.settings.cmgf == 1
        assert modem.device.state.settings.csdh == 1
        assert f"Network              : {network}" in output
        assert f"Packet network       : {network}" in output
        assert "GPRS                 : attached" in output
        assert 'Remote number        : "+40721000000"' in output
        assert "Hello in text mode" in output
        assert "4 SMS parts in 4 SMS sequences" in output
        parts = re.findall(r"part (\d) of 3\n\n(.*)\n", output)
        assert [number for number, _ in parts] == ["1", "2", "3"]
        assert "".join(text for _, text in parts) == EMOJI_TEXT
