"""A STOP that was stored but never acted on (the process died between the commit and the
opt-out update, or the database refused the update) is acted on later, once; for each sender
only the latest keyword counts, so a lost STOP is never replayed over the START after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsgw.config import OptOutSection, Settings
from smsgw.exceptions import StoreError
from smsgw.gateway.optout import REPLAY_WINDOW, OptOutKeywords
from smsgw.models import Direction
from smsgw.store import Database, repository
from smsgw.store.repository import keyword_replay
from tests.gateway.helpers import gateway_settings
from tests.store_helpers import FakeClock, receive

PHONE = "+40721000555"
OTHER = "+40721000556"
SECTION = OptOutSection(enabled=True)


def _keywords(
    db: Database, queued: list[str | None], section: OptOutSection = SECTION
) -> OptOutKeywords:
    return OptOutKeywords(db, section, on_queued=queued.append)


async def _confirmations(db: Database, peer: str) -> list[str]:
    sent = await repository.list_messages(db, direction=Direction.OUT, peer=peer)
    return [message.text for message in sent]


async def test_a_stop_never_acted_on_is_acted_on_once(db: Database) -> None:
    await receive(db, sender=PHONE, text="Stop!", modem="sim0")
    queued: list[str | None] = []
    keywords = _keywords(db, queued)

    assert await keywords.replay_missed() == 1
    listed = await repository.get_optout(db, PHONE)
    assert listed is not None
    assert listed.source == "sms"
    assert await _confirmations(db, PHONE) == [SECTION.confirm_text]
    assert queued == ["sim0"]  # the modem's worker was woken for the confirmation

    assert await keywords.replay_missed() == 0  # its confirmation now marks it acted on
    assert await _confirmations(db, PHONE) == [SECTION.confirm_text]


async def test_a_keyword_the_normal_path_handled_is_not_replayed(db: Database) -> None:
    await receive(db, sender=PHONE, text="STOP")
    keywords = _keywords(db, [])
    (stored,) = await repository.list_messages(db, direction=Direction.IN, peer=PHONE)
    await keywords.act_on(stored.id, PHONE, stored.modem, stored.text)

    assert await keywords.replay_missed() == 0
    assert await _confirmations(db, PHONE) == [SECTION.confirm_text]


async def test_only_the_latest_keyword_of_a_sender_counts(db: Database, clock: FakeClock) -> None:
    await receive(db, sender=PHONE, text="STOP")
    clock.advance(minutes=5)
    await receive(db, sender=PHONE, text="START")
    clock.advance(minutes=5)
    await receive(db, sender=PHONE, text="start, thanks")  # not a keyword: an ordinary text
    await receive(db, sender=OTHER, text="STOP")

    assert await _keywords(db, []).replay_missed() == 2
    assert await repository.get_optout(db, PHONE) is None  # START was the latest word
    assert await _confirmations(db, PHONE) == [SECTION.start_confirm_text]
    assert await repository.get_optout(db, OTHER) is not None


async def test_old_keywords_ordinary_texts_and_named_senders_are_left_alone(
    db: Database, clock: FakeClock
) -> None:
    await receive(db, sender=PHONE, text="STOP")
    clock.advance(seconds=REPLAY_WINDOW.total_seconds() + 60)
    await receive(db, sender=OTHER, text="please stop")
    await receive(db, sender="BANK", text="STOP")  # an alphanumeric sender cannot be answered

    assert await _keywords(db, []).replay_missed() == 0
    assert await repository.list_optouts(db) == []


async def test_nothing_is_replayed_with_opt_out_off(db: Database) -> None:
    await receive(db, sender=PHONE, text="STOP")
    keywords = _keywords(db, [], OptOutSection(enabled=False))
    assert await keywords.replay_missed() == 0
    await keywords.run()  # returns at once rather than looping
    assert await repository.list_optouts(db) == []


async def test_a_database_error_on_the_normal_path_is_repaired_by_the_replay(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await receive(db, sender=PHONE, text="STOP")
    (stored,) = await repository.list_messages(db, direction=Direction.IN, peer=PHONE)
    keywords = _keywords(db, [])

    async def refused(*_args: object, **_kwargs: object) -> None:
        raise StoreError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(repository, "add_optout", refused)
        with pytest.raises(StoreError):
            await keywords.act_on(stored.id, PHONE, stored.modem, stored.text)
    assert await repository.get_optout(db, PHONE) is None

    assert await keywords.replay_missed() == 1
    assert await repository.get_optout(db, PHONE) is not None


async def test_the_history_is_read_in_pages_and_keywords_come_back_oldest_first(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyword_replay, "PAGE", 2)
    texts = ["STOP", "code 1", "code 2", "START", "code 3", "STOP", "code 4"]
    for text in texts:
        await receive(db, sender=PHONE, text=text)
        clock.advance(seconds=1)

    found = await repository.keyword_candidates(
        db,
        since=clock.now - REPLAY_WINDOW,
        max_length=64,
        is_keyword=lambda text: not text.startswith("code"),
    )
    assert [candidate.text for candidate in found] == ["STOP", "START", "STOP"]
    assert not any(candidate.confirmed for candidate in found)


@pytest.mark.parametrize(("messages_kept", "replayed"), [("1d", 0), ("0", 1), ("30d", 1)])
async def test_the_replay_looks_no_further_back_than_messages_are_kept(
    db: Database, clock: FakeClock, tmp_path: Path, messages_kept: str, replayed: int
) -> None:
    # A confirmation older than `[retention] messages` may be pruned while its keyword is
    # kept (its webhook event still pending): replaying it would confirm the STOP again.
    await receive(db, sender=PHONE, text="STOP")
    clock.advance(days=2)
    base = gateway_settings(tmp_path, webhook_url="", modems={})
    settings = Settings.model_validate(
        base.model_dump() | {"optout": {"enabled": True}, "retention": {"messages": messages_kept}}
    )
    keywords = OptOutKeywords.of(db, settings, lambda _modem: None)
    assert await keywords.replay_missed() == replayed
