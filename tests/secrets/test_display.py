"""Control characters and bidi overrides from the SIM cannot reorder or restyle the inbox;
the database keeps the original text."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from smsgw.config import load_settings
from smsgw.store import open_database, upgrade
from smsgw.store.repository import inbox
from smsgw.ui.neutral import shown
from smsgw.webapp import create_app
from tests.api.live import API_KEY, FakeServices, receive, write_config

SENDER = "BANK\u202egnp.exe"
TEXT = "Pay \x1b[31mnow\x1b[0m\u2066 to \u202eIBAN\u202c\r\nthanks\x07"
HOSTILE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def test_shown_replaces_controls_with_visible_stand_ins() -> None:
    assert shown("plain\ntext") == "plain\ntext"
    assert shown(SENDER) == "BANK<U+202E>gnp.exe"
    assert shown("\x1b[31m") == "\u241b[31m"
    assert shown("a\x00b\x7fc\x85") == "a\u2400b\u2421c<U+0085>"
    assert shown("مرحبا") == "مرحبا"  # right-to-left letters are text, not controls
    assert shown(None) == ""


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[FakeServices]:
    settings = load_settings(write_config(tmp_path), env={})
    await upgrade(settings.database.url)
    db = open_database(settings.database.url)
    yield FakeServices(settings=settings, db=db, api_key=API_KEY)
    await db.close()


async def test_the_inbox_neutralises_what_the_database_keeps(services: FakeServices) -> None:
    await receive(services.db, sender=SENDER, text=TEXT)
    app = create_app(services, API_KEY, include_ui=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as browser:
        form = await browser.get("/ui/login")
        token = re.search(r'name="login_token" value="([^"]+)"', form.text)
        assert token is not None
        await browser.post("/ui/login", data={"login_token": token.group(1), "api_key": API_KEY})
        listing = await browser.get("/ui/conversations")
        thread = await browser.get(f"/ui/conversations/{urllib.parse.quote(SENDER, safe='')}")
        fragment = await browser.get(f"/ui/live/thread/{urllib.parse.quote(SENDER, safe='')}")
    for page in (listing, thread, fragment):
        assert page.status_code == 200
        assert HOSTILE.search(page.text) is None, HOSTILE.findall(page.text)
    assert '<bdi class="peer">BANK&lt;U+202E&gt;gnp.exe</bdi>' in listing.text
    assert "<h1><bdi>BANK&lt;U+202E&gt;gnp.exe</bdi></h1>" in thread.text
    assert 'dir="auto"' in thread.text
    assert "\u241b[31mnow" in thread.text
    [stored] = await inbox.thread(services.db, SENDER)
    assert stored.text == TEXT  # the original, byte for byte
    assert (await inbox.list_conversations(services.db))[0].peer == SENDER
