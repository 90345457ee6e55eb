"""The operator inbox in headless Chromium against the real daemon (`smsgw run`'s `serve`)
with an emulated SIM800 on a pty and a real webhook server.

Flows (issue 9): sign in; a conversation that arrived through the emulator appears without
reloading; a reply goes out through the emulator and its status turns `delivered`; an
unplugged modem shows as disconnected, then ready again; a dead-lettered webhook event is
retried from the page. Every page is also rendered at desktop and phone widths (written to
docs/screenshots/ only with SMSGW_SCREENSHOTS=1, `make screenshots`), and grepped for the
API key and the webhook secret.
"""

from __future__ import annotations

import datetime
import json
import random
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from smsgw.pdu import count_parts
from tests.ui.browser import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    chromium,
    screenshots_wanted,
    skip_reason,
)
from tests.ui.live_gateway import API_KEY, WEBHOOK_SECRET, LiveGateway, live_gateway

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or ""),
]

CUSTOMER = "+40721000111"
WAIT_MS = 15_000


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    with live_gateway(tmp_path_factory.mktemp("ui-gateway")) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def sign_in(context: BrowserContext, gateway: LiveGateway, key: str = API_KEY) -> Page:
    page = context.new_page()
    page.goto(f"{gateway.base_url}/ui/")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    return page


@pytest.fixture
def page(browser: Browser, gateway: LiveGateway) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    signed_in = sign_in(context, gateway)
    signed_in.wait_for_url("**/ui/conversations")
    yield signed_in
    context.close()


def deliver(gateway: LiveGateway, sender: str, text: str) -> None:
    """An SMS from `sender` through the emulator, returning once the gateway has stored it
    (asked through the REST API, as any client would)."""
    gateway.run(gateway.modem.deliver(sender, text))
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        listed = httpx.get(
            f"{gateway.base_url}/api/v1/messages",
            params={"peer": sender, "direction": "in"},
            headers={"X-API-Key": API_KEY},
            timeout=5,
        )
        if listed.status_code == 200 and any(
            text in json.dumps(message, ensure_ascii=False) for message in listed.json()["messages"]
        ):
            return
        time.sleep(0.05)
    raise AssertionError(f"the gateway did not store the SMS from {sender}")


def test_wrong_or_missing_key_shows_no_content(browser: Browser, gateway: LiveGateway) -> None:
    deliver(gateway, "+40721000999", "secret order details")
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    try:
        anonymous = context.new_page()
        for path in ("/ui/conversations", "/ui/modems", "/ui/webhook", "/ui/conversations/x"):
            anonymous.goto(gateway.base_url + path)
            assert anonymous.url.endswith("/ui/login")
            assert "+40721000999" not in anonymous.content()
            assert "secret order details" not in anonymous.content()
        fragment = context.request.get(f"{gateway.base_url}/ui/live/conversations")
        assert fragment.status == 401
        assert fragment.text() == ""

        wrong = sign_in(context, gateway, key="not-the-key")
        assert wrong.get_by_role("alert").inner_text() == "Wrong API key."
        assert "+40721000999" not in wrong.content()
        assert not [c for c in context.cookies() if c["name"] == "smsgw_ui"]
    finally:
        context.close()


def test_incoming_conversation_appears_and_the_reply_is_delivered(
    page: Page, gateway: LiveGateway
) -> None:
    from playwright.sync_api import expect

    # Arrives while the list is open: it must show up without a reload, marked unread.
    deliver(gateway, CUSTOMER, "Hello, is my order #1234 on its way?")
    row = page.locator(f'li.conversation[data-peer="{CUSTOMER}"]')
    expect(row).to_be_visible(timeout=WAIT_MS)
    expect(row.locator(".badge")).to_have_text("1")
    expect(row).to_contain_text("is my order #1234 on its way?")

    row.get_by_role("link").click()
    page.wait_for_url(re.compile(r".*/ui/conversations/%2B40721000111.*"))
    expect(page.locator(".bubble.in").last).to_contain_text("order #1234")
    box = page.get_by_label(re.compile("^Reply"))
    box.fill("Yes — it ships today! 📦")
    counter = page.locator("#reply-counter")
    expect(counter).to_have_attribute("data-encoding", "ucs2")
    expect(counter).to_contain_text("1 SMS · UCS-2")
    page.get_by_role("button", name="Send").click()

    mine = page.locator(".bubble.out").last
    expect(mine).to_contain_text("it ships today")
    expect(mine).to_have_attribute("data-status", "delivered", timeout=WAIT_MS)
    sent = [m for m in gateway.modem.sent() if m.recipient == CUSTOMER]
    assert [m.text for m in sent] == ["Yes — it ships today! 📦"]
    # Reading the thread cleared the unread badge.
    page.get_by_role("link", name="All conversations").click()
    expect(page.locator(f'li.conversation[data-peer="{CUSTOMER}"] .badge')).to_have_count(0)


def test_the_unread_badge_stays_small_and_times_are_in_the_browsers_zone(
    browser: Browser, gateway: LiveGateway
) -> None:
    from playwright.sync_api import expect

    peer = "+40721000444"
    deliver(gateway, peer, "Is the badge a badge?")
    deliver(gateway, peer, "Still asking")
    # India: a half-hour offset no UTC text can match by accident.
    context = browser.new_context(viewport=DESKTOP, timezone_id="Asia/Kolkata")  # type: ignore[arg-type]
    try:
        listed = sign_in(context, gateway)
        listed.wait_for_url("**/ui/conversations")
        row = listed.locator(f'li.conversation[data-peer="{peer}"]')
        badge = row.locator(".badge")
        expect(badge).to_have_text("2")
        box = badge.bounding_box()
        assert box is not None
        assert box["width"] < 3 * box["height"], box  # a pill around "2", not a bar
        assert box["width"] < 40, box
        stamp = row.locator("time")
        expect(stamp).to_have_attribute("data-local", "1")
        moment = datetime.datetime.fromisoformat(str(stamp.get_attribute("datetime")))
        local = moment.astimezone(datetime.timezone(datetime.timedelta(hours=5, minutes=30)))
        shown = stamp.inner_text()
        assert shown.startswith(local.strftime("%Y-%m-%d %H:%M")), shown
        assert "UTC" not in shown
        assert stamp.get_attribute("title") == moment.strftime("%Y-%m-%d %H:%M UTC")
    finally:
        context.close()


def test_an_unplugged_modem_shows_disconnected_then_ready(page: Page, gateway: LiveGateway) -> None:
    from playwright.sync_api import expect

    page.get_by_role("link", name="Modems").click()
    card = page.locator('section.modem[data-modem="sim0"]')
    expect(card).to_have_attribute("data-state", "ready", timeout=WAIT_MS)
    gateway.run(gateway.modem.unplug())
    expect(card).to_have_attribute("data-state", "disconnected", timeout=WAIT_MS)
    expect(card.locator(".problems")).to_contain_text("disconnected")
    gateway.run(gateway.modem.replug())
    expect(card).to_have_attribute("data-state", "ready", timeout=30_000)


def test_a_dead_lettered_webhook_event_is_retried(page: Page, gateway: LiveGateway) -> None:
    from playwright.sync_api import expect

    peer, text = "+40721000222", "please call me back"
    gateway.webhook.failing = True
    deliver(gateway, peer, text)
    page.get_by_role("link", name="Webhook").click()
    dead = page.locator("ul.dead-letters li").filter(has_text=peer)
    expect(dead).to_be_visible(timeout=WAIT_MS)  # max_age is 2 s in this gateway
    expect(dead).to_contain_text("500")
    gateway.webhook.failing = False

    dead.get_by_role("button", name=re.compile("^Retry event")).click()
    expect(page.get_by_role("status")).to_contain_text("queued again")
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline and not any(
        r.json().get("message") == text for r in gateway.webhook.accepted
    ):
        time.sleep(0.05)
    assert [r.json()["sender"] for r in gateway.webhook.accepted if r.json().get("message") == text]
    expect(page.locator("ul.dead-letters li").filter(has_text=peer)).to_have_count(
        0, timeout=WAIT_MS
    )


COUNTER_TEXTS = [
    "",
    "Hello",
    "x" * 160,
    "x" * 161,
    "x" * 306,
    "x" * 307,
    "€" * 80,  # extension characters cost two septets
    "€" * 81,
    "a" + "€" * 76 + "b",  # an escape pair never straddles two parts
    "ü" * 70,
    "ş" * 70,  # not GSM-7: UCS-2
    "ş" * 71,
    "😀" * 35,  # astral: two UTF-16 units each
    "😀" * 36,
    "a" + "😀" * 33 + "b",
    "line one\nline two\r\n{[]}~^|\\ @£$¥",
    "Ελληνικά ΔΦΓΛΩ",
    "ΔΦΓΛΩΠΨΣΘΞ" * 17,
    "ñandú" * 40,
]


def test_the_javascript_counter_matches_count_parts(page: Page, gateway: LiveGateway) -> None:
    deliver(gateway, "+40721000333", "counter test")
    page.goto(f"{gateway.base_url}/ui/conversations/%2B40721000333")
    form = page.locator("#reply")
    tables = (form.get_attribute("data-gsm7"), form.get_attribute("data-gsm7-ext"))
    for text in COUNTER_TEXTS:
        counted = page.evaluate(
            "([text, basic, ext]) => smsgwCountParts(text, JSON.parse(basic), JSON.parse(ext))",
            [text, *tables],
        )
        expected = count_parts(text)
        assert (counted["encoding"], counted["parts"], counted["units"]) == (
            expected.encoding,
            expected.parts,
            expected.units_used,
        ), text
        assert counted["perPart"] == expected.units_per_part, text
    # And a few hundred random texts over the awkward characters, in one round trip.
    rng = random.Random(9)
    gsm_only = "aZ0 \n€{}[]~^|\\@£ñüΔΩé\rä"
    mixed = gsm_only + "ş😀🇷🇴"
    texts = [
        "".join(rng.choices(gsm_only if n % 2 else mixed, k=rng.randint(0, 400)))
        for n in range(300)
    ]
    assert {count_parts(text).encoding for text in texts} == {"gsm7", "ucs2"}
    counted_all = page.evaluate(
        """([texts, basic, ext]) => texts.map(
            t => smsgwCountParts(t, JSON.parse(basic), JSON.parse(ext)))""",
        [texts, *tables],
    )
    for text, counted in zip(texts, counted_all, strict=True):
        expected = count_parts(text)
        assert (counted["encoding"], counted["parts"], counted["units"]) == (
            expected.encoding,
            expected.parts,
            expected.units_used,
        ), text
    # And what the operator sees while typing.
    page.get_by_label(re.compile("^Reply")).fill("x" * 161)
    counter = page.locator("#reply-counter")
    assert counter.inner_text() == "161 / 306 · 2 SMS · GSM-7"


PAGES = {
    "login": "/ui/login",
    "conversations": "/ui/conversations",
    "thread": "/ui/conversations/%2B40721000111",
    "modems": "/ui/modems",
    "webhook": "/ui/webhook",
    "optouts": "/ui/optouts",
    "quarantine": "/ui/quarantine",
}
FRAGMENTS = [
    "/ui/live/conversations",
    "/ui/live/thread/%2B40721000111",
    "/ui/live/modems",
    "/ui/live/webhook",
    "/ui/static/ui.js",
    "/ui/static/ui.css",
]


def _unlabelled_controls(page: Page) -> list[str]:
    """Visible inputs, text areas and buttons that a screen reader could not name."""
    unnamed: list[str] = page.locator(
        "input:not([type=hidden]), textarea, select, button"
    ).evaluate_all(
        """elements => elements
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                         && !(e.tagName === 'BUTTON' && e.textContent.trim()))
            .map(e => e.outerHTML)"""
    )
    return unnamed


def _screenshot_files() -> dict[str, tuple[int, int]]:
    """Name -> (size, mtime in ns) of every file in docs/screenshots/."""
    if not SCREENSHOTS.is_dir():
        return {}
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in SCREENSHOTS.iterdir()}


def _screenshot(page: Page, name: str, size: str) -> bytes:
    """Render the visible page as PNG; written to docs/screenshots/ only when asked
    (SMSGW_SCREENSHOTS=1, `make screenshots`), so ordinary runs leave the tree clean."""
    png = page.screenshot(full_page=False)
    if screenshots_wanted():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"{name}-{size}.png").write_bytes(png)
    return png


def test_every_page_at_desktop_and_phone_width_without_secrets(
    browser: Browser, gateway: LiveGateway
) -> None:
    from playwright.sync_api import expect

    before = _screenshot_files()
    deliver(gateway, CUSTOMER, "Thanks! Can I change the delivery address?")
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        try:
            login = context.new_page()
            login.goto(gateway.base_url + PAGES["login"])
            assert _unlabelled_controls(login) == []
            _screenshot(login, "login", size)
            signed_in = sign_in(context, gateway)
            signed_in.wait_for_url("**/ui/conversations")
            for name, path in PAGES.items():
                if name == "login":
                    continue
                signed_in.goto(gateway.base_url + path)
                if name == "modems":
                    expect(signed_in.locator("section.modem").first).to_contain_text("ready")
                assert _unlabelled_controls(signed_in) == [], name
                html = signed_in.content()
                assert API_KEY not in html, name
                assert WEBHOOK_SECRET not in html, name
                # No horizontal scrolling at phone width.
                overflow = signed_in.evaluate(
                    "document.documentElement.scrollWidth - window.innerWidth"
                )
                assert overflow <= 1, f"{name} scrolls sideways at {size} width"
                assert len(_screenshot(signed_in, name, size)) > 1000
            for path in FRAGMENTS:
                body = context.request.get(gateway.base_url + path)
                assert body.status == 200, path
                assert API_KEY not in body.text(), path
                assert WEBHOOK_SECRET not in body.text(), path
            for cookie in context.cookies():
                assert API_KEY not in cookie["value"]
                session = cookie["name"] == "smsgw_ui"
                assert not session or (cookie["httpOnly"] and cookie["sameSite"] == "Strict")
        finally:
            context.close()
    if not screenshots_wanted():
        assert _screenshot_files() == before, "an ordinary test run rewrote docs/screenshots/"
