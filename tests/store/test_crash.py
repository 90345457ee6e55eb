"""kill -9 in the middle of a burst of incoming parts: every part the writer reported as
committed is in the database, and no message exists without its parts or its webhook event."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import sqlalchemy as sa

from smsgw.store import open_database

WRITER = textwrap.dedent(
    """
    import asyncio, datetime, sys
    from smsgw.store import open_database, repository, upgrade
    from smsgw.store.types import IncomingPart, NewEvent

    def render(message, earlier):
        return NewEvent(event_id="in." + message.id, body=message.text.encode())

    async def main(url):
        await upgrade(url)
        db = open_database(url)
        base = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
        committer = repository.incoming_part_committer(db, render=render, history_size=3)
        for n in range(100_000):
            sender = f"+4072{n % 7:07d}"
            scts = base + datetime.timedelta(seconds=n // 3)
            await committer.submit(
                IncomingPart(modem="m", sender=sender, smsc_timestamp=scts, text=f"{n} ",
                             concat_ref=n // 3 % 256, concat_total=3, concat_seq=n % 3 + 1),
            )
            print(n, flush=True)  # only after the commit: "safe to delete from the SIM"

    asyncio.run(main(sys.argv[1]))
    """
)


async def _check(url: str, acknowledged: int) -> None:
    db = open_database(url)
    try:
        async with db.transaction("check") as connection:
            parts = await connection.scalar(sa.text("SELECT count(*) FROM incoming_parts"))
            orphans = await connection.scalar(
                sa.text(
                    "SELECT count(*) FROM messages m WHERE NOT EXISTS "
                    "(SELECT 1 FROM webhook_outbox o WHERE o.message_pk = m.pk) OR "
                    "(SELECT count(*) FROM incoming_parts p WHERE p.message_pk = m.pk) != m.parts"
                )
            )
            complete_groups = await connection.scalar(
                sa.text("SELECT count(*) FROM incoming_parts WHERE message_pk IS NOT NULL")
            )
            messages = await connection.scalar(sa.text("SELECT count(*) FROM messages"))
            if db.dialect == "sqlite":
                integrity = await connection.scalar(sa.text("PRAGMA integrity_check"))
                assert integrity == "ok"
    finally:
        await db.close()
    assert parts is not None
    assert parts >= acknowledged  # nothing acknowledged was lost (at most one more, unacked)
    assert parts <= acknowledged + 1
    assert orphans == 0
    assert complete_groups == 3 * (messages or 0)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("delay", [0.8, 1.6])
def test_kill_during_a_burst_loses_nothing_acknowledged(migrated_url: str, delay: float) -> None:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, migrated_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert writer.stdout is not None
        # Wait for real progress, then kill at a moment decided by the clock, not by the writer.
        first = writer.stdout.readline()
        assert first.strip() == "0", writer.stderr.read() if writer.stderr else first
        acknowledged = 1
        os.set_blocking(writer.stdout.fileno(), False)
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
        os.set_blocking(writer.stdout.fileno(), True)
        lines = [line for line in writer.stdout.read().splitlines() if line.strip()]
        acknowledged += len(lines)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert acknowledged > 3, "the writer made too little progress to test anything"
    asyncio.run(_check(migrated_url, acknowledged))
