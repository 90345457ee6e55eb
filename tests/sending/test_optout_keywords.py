"""Opt-out keywords: which messages are STOP or START (whole message; case, accents,
blanks and closing punctuation ignored), and nothing when opt-out is off."""

from __future__ import annotations

import pytest

from smsgw.config import OptOutSection
from smsgw.gateway.optout import KeywordMatcher, keyword_form


def _keywords(**section: object) -> KeywordMatcher:
    return KeywordMatcher(OptOutSection.model_validate(section))


@pytest.mark.parametrize(
    "text",
    ["STOP", "stop", "Stop", "sToP", " STOP ", "STOP!", "stop.", "Ştop", "STÓP", "\tstop\n",
     "Unsubscribe", "ＳＴＯＰ"],
)  # fmt: skip
def test_stop_in_many_spellings(text: str) -> None:
    assert _keywords(enabled=True).action(text) == "stop"


@pytest.mark.parametrize("text", ["START", "start", "Stârt", "unstop!", " Subscribe "])
def test_start_in_many_spellings(text: str) -> None:
    assert _keywords(enabled=True).action(text) == "start"


@pytest.mark.parametrize(
    "text", ["stop it", "please stop", "STOPP", "", "   ", "S T O P", "stop" * 40, "restart"]
)
def test_ordinary_messages_are_not_keywords(text: str) -> None:
    assert _keywords(enabled=True).action(text) is None


def test_nothing_is_a_keyword_when_opt_out_is_off() -> None:
    assert _keywords().action("STOP") is None


def test_configured_words_are_compared_the_same_way() -> None:
    keywords = _keywords(
        enabled=True, stop_words=["Dezabonare", "Oprește"], start_words=["Pornește"]
    )
    assert keywords.action("OPRESTE") == "stop"
    assert keywords.action("dezabonare!") == "stop"
    assert keywords.action("porneste") == "start"
    assert keywords.action("STOP") is None


def test_keyword_form() -> None:
    assert keyword_form("  Ştop!! ") == "stop"
    assert keyword_form("Stop   All") == "stop all"
