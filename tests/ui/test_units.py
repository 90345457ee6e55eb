"""Session signing, modem history and the presentation rules, without a server."""

from __future__ import annotations

import datetime

from smsgw.models import ModemView
from smsgw.ui.present import can_reply, public_url
from smsgw.ui.session import SessionSigner
from smsgw.ui.watch import ModemWatch, SignalSample, sparkline_points

T0 = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)


class Keyring:
    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self) -> str:
        return self.key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_verifies_until_it_expires_or_the_key_changes() -> None:
    keyring, clock = Keyring("key-one"), Clock()
    signer = SessionSigner(keyring, max_age=3600, clock=clock)
    session, cookie = signer.issue()
    assert "key-one" not in cookie
    assert signer.verify(cookie) == session
    clock.now += 3601
    assert signer.verify(cookie) is None
    clock.now -= 3601
    keyring.key = "key-two"  # rotating the API key signs everybody out
    assert signer.verify(cookie) is None


def test_tampered_cookies_are_refused() -> None:
    signer = SessionSigner(lambda: "key")
    _, cookie = signer.issue()
    payload, mac = cookie.split(".")
    for forged in [
        None,
        "",
        payload,
        f"{payload}.{mac[:-2]}AA",
        f"{payload[:-2]}AA.{mac}",
        f"{cookie}.extra",
        "!!!.???",
    ]:
        assert signer.verify(forged) is None, forged


def test_csrf_tokens_belong_to_one_session() -> None:
    signer = SessionSigner(lambda: "key")
    first, _ = signer.issue()
    second, _ = signer.issue()
    token = signer.csrf_token(first)
    assert signer.csrf_matches(first, token)
    assert not signer.csrf_matches(second, token)
    assert not signer.csrf_matches(first, None)
    assert not signer.csrf_matches(first, "")


def test_key_check_refuses_empty_keys() -> None:
    assert SessionSigner(lambda: "k").key_matches("k")
    assert not SessionSigner(lambda: "k").key_matches("K")
    assert not SessionSigner(lambda: "").key_matches("")


def _view(state: str, dbm: int | None = -70, reason: str | None = None) -> ModemView:
    return ModemView(
        name="sim0", node="n", port="/dev/x", state=state, reason=reason,
        manufacturer=None, model=None, revision=None, operator=None, signal_dbm=dbm,
        registration=None, storage_used=None, storage_total=None, counters={}, last_seen=None,
    )  # fmt: skip


def test_watch_samples_signal_at_most_every_interval_and_keeps_a_bounded_history() -> None:
    now = [T0]
    watch = ModemWatch(history=3, min_interval=datetime.timedelta(seconds=5), clock=lambda: now[0])
    for second, dbm in [(0, -70), (1, -60), (5, -80), (10, -90), (15, -100)]:
        now[0] = T0 + datetime.timedelta(seconds=second)
        watch.observe([_view("ready", dbm)])
    assert [sample.dbm for sample in watch.signal("sim0")] == [-80, -90, -100]
    watch.observe([_view("disconnected", None)])
    assert len(watch.signal("sim0")) == 3


def test_watch_records_each_problem_once_newest_first() -> None:
    watch = ModemWatch(problems=2, clock=lambda: T0)
    for state, reason in [
        ("ready", None),
        ("disconnected", "unplugged"),
        ("disconnected", "unplugged"),
        ("opening", None),
        ("ready", None),
        ("failed", "SIM PIN wrong"),
    ]:
        watch.observe([_view(state, reason=reason)])
    assert [(p.state, p.reason) for p in watch.problems("sim0")] == [
        ("failed", "SIM PIN wrong"),
        ("opening", None),
    ]
    assert watch.problems("other") == ()


def test_sparkline_maps_the_dbm_range_onto_the_box() -> None:
    assert sparkline_points([SignalSample(T0, -70)]) == ""
    points = sparkline_points(
        [SignalSample(T0, -113), SignalSample(T0, -51), SignalSample(T0, -200)],
        width=100,
        height=22,
    )
    assert points == "0.0,21.0 50.0,1.0 100.0,21.0"


def test_only_numbers_can_be_answered() -> None:
    assert can_reply("+40722000001")
    assert can_reply("1234")
    assert not can_reply("BANK")
    assert not can_reply("+40 722")


def test_public_url_drops_credentials_query_and_fragment() -> None:
    assert public_url("") == ""
    assert (
        public_url("https://user:pw@hooks.example:8443/sms?token=abc#x")
        == "https://hooks.example:8443/sms"
    )
    assert public_url("http://[::1]:3000/in") == "http://[::1]:3000/in"
