"""The SIM's own number (27.007 §7.1 AT+CNUM) as each emulated profile answers it."""

from __future__ import annotations

import pytest

from tests.emulator.host import boot


@pytest.mark.parametrize(
    ("profile", "own_number", "lines"),
    [
        ("sim800", "+40721999000", ['+CNUM: "","+40721999000",145,7,4', "OK"]),
        ("huawei", "+40721999000", ['+CNUM: "","+40721999000",145', "OK"]),
        ("huawei", "0721999000", ['+CNUM: "","0721999000",129', "OK"]),
        ("sim800", None, ["OK"]),  # a SIM that stores no number: bare OK
        ("huawei", None, ["OK"]),
    ],
)
def test_cnum_answers_the_configured_own_number_per_profile(
    profile: str, own_number: str | None, lines: list[str]
) -> None:
    host = boot(profile, own_number=own_number)
    host.at("ATE0")
    assert host.lines("AT+CNUM") == lines
    assert host.lines("AT+CNUM=?") == ["OK"]
