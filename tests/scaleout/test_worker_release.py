"""A modem that stops being READY between claiming a message and sending its first part
gives the message back: an unbound send then goes out through another modem (on any node)
instead of waiting for this one to come back."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from smsgw.gateway import ModemWorker
from smsgw.models import MessageStatus
from smsgw.modem import ModemState, ModemSupervisor
from smsgw.store import open_database, repository, upgrade_database
from smsgw.store.types import MessageRecord


class _DropsAfterClaim:
    """READY when the worker checks before claiming, gone right after."""

    modem_id = "a1"

    def __init__(self) -> None:
        self.checks = 0

    @property
    def state(self) -> ModemState:
        self.checks += 1
        return ModemState.READY if self.checks == 1 else ModemState.DISCONNECTED


async def test_an_unbound_message_is_given_back_when_the_modem_drops_after_the_claim(
    tmp_path: Path,
) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await upgrade_database(db)
    released: list[MessageRecord] = []
    try:
        queued = await repository.enqueue_outgoing(
            db, peer="+40722000000", text="any modem", parts=1, encoding="gsm7"
        )
        worker = ModemWorker(
            db,
            cast(ModemSupervisor, _DropsAfterClaim()),
            node="a",
            daily_limit=None,
            on_new_event=lambda: None,
            on_released=released.append,
        )
        assert await worker.send_next()
        assert [message.id for message in released] == [queued.message.id]
        detail = await repository.get_message(db, queued.message.id)
        assert detail is not None
        assert detail.message.status is MessageStatus.QUEUED
        assert detail.message.modem is None
        again = await repository.claim_next_outgoing(db, modem="b1", node="b")
        assert again is not None
        assert again.id == queued.message.id
    finally:
        await db.close()
