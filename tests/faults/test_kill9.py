"""`kill -9` of `smsgw run` at 20 random moments of a 500-message burst with auto-replies.

The loop itself lives in tests/gateway/test_kill9.py (its bounded version, 200 messages and
2 kills, runs in `make test`); this is the issue's long version for `make faults`. It prints
the counts (injected, delivered, lost, duplicated, duplicates with another key, replies sent
twice) and asserts lost 0, duplicates only with the same Idempotency-Key, and no auto-reply
sent twice (a reply cut by a kill is recorded `interrupted` instead).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.scale import counts_line
from tests.gateway import test_kill9 as kill9


@pytest.mark.faults
@pytest.mark.timeout(900)
async def test_kill_9_twenty_times_during_500_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kill9, "MESSAGES", 500)
    # Every tenth message asks for a reply and they all come from one sender: 50 replies to
    # one number, over limits.replies_per_peer_per_hour (30), which would suppress 20 of them.
    original = kill9._config

    def config_without_reply_limit(tmp: Path, webhook_url: str) -> Path:
        path = original(tmp, webhook_url)
        path.write_text(path.read_text() + "[limits]\nreplies_per_peer_per_hour = 1000\n")
        return path

    monkeypatch.setattr(kill9, "_config", config_without_reply_limit)
    counts = await kill9._burst_with_kills(tmp_path, kills=20, seed=7)
    counts_line("kill -9 x20 / 500", **counts)
