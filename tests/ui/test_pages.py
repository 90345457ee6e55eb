"""The /ui pages over HTTP (no browser): access control, CSRF, replies, dead-letter retry,
`ui.enabled = false`, against a real uvicorn server and SQLite store (tests/api/live.py)."""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from smsgw.gateway.render import render_alert
from smsgw.models import Direction, ModemAlertKind
from smsgw.store import repository
from smsgw.store.types import QuarantineItem
from smsgw.webapp import create_app
from tests.api.live import API_KEY, LiveApi, live_api, receive
from tests.store_helpers import dead_letter, queue_event, schedule_retry

pytestmark = pytest.mark.timeout(60)

PEER = "+40722000001"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    with live_api(tmp_path_factory.mktemp("ui-pages")) as served:
        served.run(receive(served.services.db, sender=PEER, text="Is the shop open today?"))
        yield served


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, f"no {name} field"
    return found.group(1)


def sign_in(http: httpx.Client, key: str = API_KEY) -> httpx.Response:
    form = http.get("/ui/login")
    return http.post(
        "/ui/login", data={"login_token": _field(form.text, "login_token"), "api_key": key}
    )


@pytest.fixture
def browser_like(api: LiveApi) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.base_url, timeout=10) as http:
        yield http


@pytest.fixture
def operator(browser_like: httpx.Client) -> httpx.Client:
    assert sign_in(browser_like).status_code == 303
    return browser_like


PROTECTED_PAGES = [
    "/ui",
    "/ui/conversations",
    f"/ui/conversations/{PEER}",
    "/ui/modems",
    "/ui/webhook",
    "/ui/optouts",
    "/ui/quarantine",
]


@pytest.mark.parametrize("path", PROTECTED_PAGES)
def test_pages_without_a_session_redirect_to_sign_in_and_show_nothing(
    browser_like: httpx.Client, path: str
) -> None:
    response = browser_like.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login"
    assert PEER not in response.text
    assert "shop" not in response.text


@pytest.mark.parametrize(
    "path", ["/ui/live/conversations", f"/ui/live/thread/{PEER}", "/ui/live/modems"]
)
def test_fragments_without_a_session_are_401_and_empty(
    browser_like: httpx.Client, path: str
) -> None:
    response = browser_like.get(path)
    assert (response.status_code, response.text) == (401, "")


def test_a_forged_or_foreign_cookie_is_not_a_session(browser_like: httpx.Client) -> None:
    for value in ["", "garbage", "eyJuIjoiYSIsInQiOjF9.AAAA", API_KEY]:
        browser_like.cookies.set("smsgw_ui", value, path="/ui")
        assert browser_like.get("/ui/conversations").status_code == 303


def test_wrong_key_is_refused_without_a_session(browser_like: httpx.Client) -> None:
    response = sign_in(browser_like, key="wrong")
    assert response.status_code == 401
    assert "Wrong API key." in response.text
    assert "smsgw_ui" not in browser_like.cookies
    assert browser_like.get("/ui/conversations").status_code == 303


def test_sign_in_needs_the_form_token(browser_like: httpx.Client) -> None:
    response = browser_like.post("/ui/login", data={"login_token": "x", "api_key": API_KEY})
    assert response.status_code == 400
    assert "smsgw_ui" not in browser_like.cookies


def test_session_cookie_is_http_only_strict_and_holds_no_key(browser_like: httpx.Client) -> None:
    response = sign_in(browser_like)
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("smsgw_ui="))
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/ui" in cookie
    assert API_KEY not in cookie


def test_conversation_list_and_thread(operator: httpx.Client) -> None:
    listed = operator.get("/ui/conversations")
    assert listed.status_code == 200
    assert PEER in listed.text
    assert "Is the shop open today?" in listed.text
    thread = operator.get(f"/ui/conversations/{PEER}")
    assert 'class="bubble in"' in thread.text
    assert "sent through modem sim800" in thread.text
    assert operator.get("/ui/conversations/+40000000000").status_code == 404


def test_reply_goes_through_the_peer_modem_and_is_idempotent(
    operator: httpx.Client, api: LiveApi
) -> None:
    page = operator.get(f"/ui/conversations/{PEER}").text
    form = {
        "csrf": _field(page, "csrf"),
        "reply_token": _field(page, "reply_token"),
        "text": "Yes, until 18:00.",
    }
    first = operator.post(f"/ui/conversations/{PEER}/reply", data=form)
    again = operator.post(f"/ui/conversations/{PEER}/reply", data=form)  # double click
    assert first.status_code == again.status_code == 303
    sent = api.run(repository.list_messages(api.services.db, peer=PEER))
    replies = [m for m in sent if m.text == "Yes, until 18:00."]
    assert len(replies) == 1
    assert replies[0].modem == "sim800"
    assert 'data-status="queued"' in operator.get(f"/ui/conversations/{PEER}").text


def test_reply_without_the_csrf_token_is_refused(operator: httpx.Client, api: LiveApi) -> None:
    response = operator.post(
        f"/ui/conversations/{PEER}/reply", data={"csrf": "nope", "text": "forged"}
    )
    assert response.status_code == 403
    cross_site = operator.post(
        f"/ui/conversations/{PEER}/reply",
        data={"csrf": _field(operator.get("/ui/modems").text, "csrf"), "text": "forged"},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    texts = [m.text for m in api.run(repository.list_messages(api.services.db, peer=PEER))]
    assert "forged" not in texts


def test_too_long_and_empty_replies_are_explained(operator: httpx.Client) -> None:
    page = operator.get(f"/ui/conversations/{PEER}").text
    csrf = _field(page, "csrf")
    empty = operator.post(f"/ui/conversations/{PEER}/reply", data={"csrf": csrf, "text": " "})
    assert empty.status_code == 422
    assert "Write a message first." in empty.text
    long = operator.post(f"/ui/conversations/{PEER}/reply", data={"csrf": csrf, "text": "ş" * 500})
    assert long.status_code == 422
    assert "at most 6 are allowed" in long.text
    assert "ş" * 500 in long.text  # the draft is kept


def test_a_reply_passes_the_same_checks_as_an_api_send(
    operator: httpx.Client, api: LiveApi
) -> None:
    db = api.services.db
    short_code = "12345"  # digits, so the form offers a reply, but no valid phone number
    api.run(receive(db, sender=short_code, text="Your code is 0000"))
    page = operator.get(f"/ui/conversations/{short_code}").text
    csrf = _field(page, "csrf")
    invalid = operator.post(
        f"/ui/conversations/{short_code}/reply", data={"csrf": csrf, "text": "thanks"}
    )
    assert invalid.status_code == 422
    assert "is not a valid phone number" in invalid.text
    nul = operator.post(
        f"/ui/conversations/{PEER}/reply", data={"csrf": csrf, "text": "before\x00after"}
    )
    assert nul.status_code == 422
    assert "contains a NUL character" in nul.text
    sent = api.run(repository.list_messages(db, direction=Direction.OUT, limit=1000))
    assert [m.text for m in sent if m.peer in (short_code, PEER) and "after" in m.text] == []
    assert [m for m in sent if m.peer == short_code] == []
    # The same words through the API get the same verdicts.
    answer = httpx.post(
        f"{api.base_url}/api/v1/messages",
        json={"to": short_code, "text": "thanks"},
        headers=api.headers,
    )
    assert answer.status_code == 422
    assert "is not a valid phone number" in answer.json()["detail"]


def test_a_national_number_reply_is_queued_in_e164(operator: httpx.Client, api: LiveApi) -> None:
    db = api.services.db
    national = "0722000042"
    api.run(receive(db, sender=national, text="Call me"))
    page = operator.get(f"/ui/conversations/{national}").text
    answer = operator.post(
        f"/ui/conversations/{national}/reply",
        data={"csrf": _field(page, "csrf"), "text": "Calling now"},
    )
    assert answer.status_code == 303
    sent = api.run(repository.list_messages(db, direction=Direction.OUT, limit=1000))
    assert [m.peer for m in sent if m.text == "Calling now"] == ["+40722000042"]


def test_dead_letter_retry(operator: httpx.Client, api: LiveApi) -> None:
    db = api.services.db
    entry = api.run(queue_event(db, "ui-dead-1", PEER))
    assert api.run(dead_letter(db, entry.id, error="HTTP 503 from webhook"))
    page = operator.get("/ui/webhook").text
    assert "HTTP 503 from webhook" in page
    assert "ui-dead-1" in page
    wakes = api.services.webhook_wakes
    retried = operator.post(
        f"/ui/webhook/dead/{entry.id}/retry", data={"csrf": _field(page, "csrf")}
    )
    assert retried.status_code == 303
    assert api.services.webhook_wakes == wakes + 1
    assert "queued again" in operator.get(retried.headers["location"]).text
    assert api.run(repository.list_dead_letters(db)) == []
    again = operator.post(f"/ui/webhook/dead/{entry.id}/retry", data={"csrf": _field(page, "csrf")})
    assert again.status_code == 404
    for odd in ("%C2%B2", "%D9%A3", "x"):  # "²" and "٣" pass str.isdigit(), not int()
        bad = operator.post(f"/ui/webhook/dead/{odd}/retry", data={"csrf": _field(page, "csrf")})
        assert bad.status_code == 404
    assert api.services.webhook_wakes == wakes + 1


def test_an_event_waiting_for_its_next_attempt_can_be_retried_now(
    operator: httpx.Client, api: LiveApi
) -> None:
    db = api.services.db
    peer = "+40722000077"
    entry = api.run(queue_event(db, "ui-waiting-1", peer))
    claimed = api.run(repository.claim_due_events(db, node="test-node", limit=100))
    assert entry.id in [c.id for c in claimed]
    in_an_hour = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    assert api.run(
        schedule_retry(
            db,
            entry.id,
            next_attempt_at=in_an_hour,
            error="HTTP 502 from webhook",
            node="test-node",
        )
    )
    page = operator.get("/ui/webhook").text
    waiting = re.search(r'<ul class="events waiting">(.*?)</ul>', page, re.S)
    assert waiting is not None
    assert 'data-event="ui-waiting-1"' in waiting.group(1)
    assert "HTTP 502 from webhook" in waiting.group(1)
    assert f'action="/ui/webhook/waiting/{entry.id}/retry"' in waiting.group(1)
    # Not due: the dispatcher would not see it for an hour.
    assert entry.id not in [
        c.id for c in api.run(repository.claim_due_events(db, node="test-node", limit=100))
    ]
    wakes = api.services.webhook_wakes
    retried = operator.post(
        f"/ui/webhook/waiting/{entry.id}/retry", data={"csrf": _field(page, "csrf")}
    )
    assert retried.status_code == 303
    assert api.services.webhook_wakes == wakes + 1
    assert "will be sent now" in operator.get(retried.headers["location"]).text
    # Due now, and still the same event (attempts and error kept).
    due = api.run(repository.claim_due_events(db, node="test-node", limit=100))
    mine = [c for c in due if c.id == entry.id]
    assert [(c.event_id, c.attempts) for c in mine] == [("ui-waiting-1", 1)]
    # Claimed by a dispatcher now: not waiting any more, so nothing to push.
    again = operator.post(
        f"/ui/webhook/waiting/{entry.id}/retry", data={"csrf": _field(page, "csrf")}
    )
    assert again.status_code == 404
    assert api.services.webhook_wakes == wakes + 1
    forged = operator.post(f"/ui/webhook/waiting/{entry.id}/retry", data={"csrf": "nope"})
    assert forged.status_code == 403


def test_logout_ends_the_session(operator: httpx.Client) -> None:
    csrf = _field(operator.get("/ui/modems").text, "csrf")
    assert operator.post("/ui/logout", data={"csrf": csrf}).status_code == 303
    assert operator.get("/ui/conversations").status_code == 303


def test_static_files_are_a_fixed_list(browser_like: httpx.Client) -> None:
    assert browser_like.get("/ui/static/ui.js").status_code == 200
    assert browser_like.get("/ui/static/..%2Fsession.py").status_code == 404
    assert browser_like.get("/ui/static/templates").status_code == 404


def test_pages_carry_a_strict_content_security_policy(operator: httpx.Client) -> None:
    policy = operator.get("/ui/conversations").headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


async def test_ui_disabled_serves_no_pages(api: LiveApi) -> None:
    async def login_status(app: FastAPI) -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ui.test") as client:
            return (await client.get("/ui/login")).status_code

    services = api.services
    disabled = dataclasses.replace(
        services,
        settings=type(services.settings).model_validate(
            {**services.settings.model_dump(), "ui": {"enabled": False}}
        ),
    )
    assert await login_status(create_app(services, API_KEY)) == 200
    assert await login_status(create_app(disabled, API_KEY)) == 404
    assert await login_status(create_app(services, API_KEY, include_ui=False)) == 404
    assert await login_status(create_app(disabled, API_KEY, include_ui=True)) == 200


def test_nothing_served_contains_the_api_key(operator: httpx.Client) -> None:
    paths = [*PROTECTED_PAGES[1:], "/ui/login", "/ui/live/conversations", "/ui/live/webhook"]
    for path in paths:
        response = operator.get(path)
        assert API_KEY not in response.text, path


def test_the_opt_out_list_is_shown_and_edited(operator: httpx.Client, api: LiveApi) -> None:
    db = api.services.db
    api.run(repository.add_optout(db, "+40722000111", source="sms", modem="sim800"))
    page = operator.get("/ui/optouts").text
    assert "+40722000111" in page
    assert "sent a stop word to sim800" in page
    added = operator.post(
        "/ui/optouts", data={"csrf": _field(page, "csrf"), "number": "0722 000 112"}
    )
    assert added.status_code == 303
    assert "+40722000112 is on the opt-out list" in operator.get(added.headers["location"]).text
    assert api.run(repository.get_optout(db, "+40722000112")) is not None
    removed = operator.post("/ui/optouts/+40722000111/remove", data={"csrf": _field(page, "csrf")})
    assert removed.status_code == 303
    assert api.run(repository.get_optout(db, "+40722000111")) is None
    again = operator.post("/ui/optouts/+40722000111/remove", data={"csrf": _field(page, "csrf")})
    assert again.status_code == 404
    bad = operator.post("/ui/optouts", data={"csrf": _field(page, "csrf"), "number": "nonsense"})
    assert bad.status_code == 422
    forged = operator.post("/ui/optouts", data={"csrf": "forged", "number": "0722000113"})
    assert forged.status_code == 403
    assert api.run(repository.get_optout(db, "+40722000113")) is None


def test_quarantined_sms_are_shown_escaped_and_cleared(
    operator: httpx.Client, api: LiveApi
) -> None:
    db = api.services.db
    hostile = QuarantineItem(
        modem="sim800", storage="SM", storage_index=7, pdu_hex="07914<b>x</b>", error="<script>"
    )
    kept = api.run(repository.quarantine_pdu(db, hostile, alert_detail="", render=render_alert))
    page = operator.get("/ui/quarantine").text
    assert f'data-entry="{kept.id}"' in page
    assert "SM slot 7" in page
    assert "&lt;script&gt;" in page
    assert "<script>" not in page.split("</header>", 1)[1]
    assert "07914&lt;b&gt;x&lt;/b&gt;" in page
    alerts = api.run(repository.list_open_alerts(db, modem="sim800"))
    assert [alert.alert for alert in alerts] == [ModemAlertKind.QUARANTINED.value]

    forged = operator.post(f"/ui/quarantine/{kept.id}/clear", data={"csrf": "forged"})
    assert forged.status_code == 403
    csrf = {"csrf": _field(page, "csrf")}
    cleared = operator.post(f"/ui/quarantine/{kept.id}/clear", data=csrf)
    assert cleared.status_code == 303
    assert f"Entry {kept.id} cleared." in operator.get(cleared.headers["location"]).text
    assert api.run(repository.list_quarantine(db)) == []
    assert api.run(repository.list_open_alerts(db, modem="sim800")) == []  # the last one
    assert operator.post(f"/ui/quarantine/{kept.id}/clear", data=csrf).status_code == 404
    for odd in ("not-a-number", "%C2%B2", "0", str(2**64)):
        assert operator.post(f"/ui/quarantine/{odd}/clear", data=csrf).status_code == 404
    assert "Nothing is quarantined." in operator.get("/ui/quarantine").text
