"""The README and docs/ are complete inside the repository: every relative link resolves, and
none sends the reader to notes that only exist beside the checkout or to issue numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OUTSIDE = re.compile(r"CONTRACT\.md|PROTOCOL\.md|DESIGN\.md|\.\./shared|\b[Ii]ssue \d+|#\d+\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_no_reference_outside_the_repository(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert OUTSIDE.findall(text) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_relative_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", text):
        assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_the_reference_pages_exist_and_the_license_is_mit() -> None:
    for name in ("webhook.md", "api.md", "cli.md", "configuration.md"):
        assert (ROOT / "docs" / name).is_file(), name
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
