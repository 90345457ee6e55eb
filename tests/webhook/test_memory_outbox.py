"""The in-memory outbox the dispatcher tests rely on passes the Outbox contract."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from smsgw.models import OutboxEntry, WebhookEventKind
from tests.webhook.memory_outbox import InMemoryOutbox
from tests.webhook.outbox_contract import MakeOutbox, OutboxContract


@dataclasses.dataclass
class _Harness:
    outbox: InMemoryOutbox

    async def add(
        self,
        *,
        peer: str,
        body: bytes,
        created_at: datetime.datetime,
        kind: WebhookEventKind = WebhookEventKind.INCOMING_SMS,
    ) -> OutboxEntry:
        return self.outbox.add(peer=peer, body=body, created_at=created_at, kind=kind)


class TestInMemoryOutbox(OutboxContract):
    @pytest.fixture
    def make(self) -> MakeOutbox:
        async def make() -> _Harness:
            return _Harness(InMemoryOutbox())

        return make
