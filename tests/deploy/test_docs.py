"""docs/deployment.md: the troubleshooting topics are there and its links resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"


@pytest.mark.parametrize(
    "heading",
    [
        "No modem answers",
        "ModemManager grabbed the port",
        "Huawei on the wrong ttyUSB",
        "SIM PIN",
        "No +CMTI",
        "SIM full",
    ],
)
def test_troubleshooting_topic_has_a_section(heading: str) -> None:
    headings = re.findall(r"^#{2,4} (.+)$", DOC.read_text(encoding="utf-8"), re.M)
    assert any(h.startswith(heading) for h in headings), headings


def test_relative_links_point_at_existing_files() -> None:
    text = DOC.read_text(encoding="utf-8")
    targets = re.findall(r"\]\((\.\.?/[^)#]+)(?:#[^)]*)?\)", text)
    assert targets
    for target in targets:
        assert (DOC.parent / target).resolve().exists(), target


def test_commands_in_the_guide_match_the_shipped_files() -> None:
    text = DOC.read_text(encoding="utf-8")
    root = DOC.parents[1]
    for path in ("deploy/install.sh", "systemd/smsgw.service", "udev/99-smsgw.rules"):
        assert (root / path).is_file()
    assert "/etc/udev/rules.d/99-smsgw.rules" in text
    assert "/opt/smsgw/bin/smsgw" in (root / "systemd/smsgw.service").read_text(encoding="utf-8")
    assert "/opt/smsgw/bin/smsgw" in text
