"""Two `Gateway`s in this process on one PostgreSQL: modem names are unique across nodes, a
send queued through one node's API is sent by another node's modem (woken by NOTIFY, not by
its poll), and every node's API lists every node's modems with their last heartbeat."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from smsgw.exceptions import SubmitRefused
from smsgw.gateway import Gateway, ModemNameTaken, daemon
from smsgw.store import repository
from tests.gateway.helpers import emulators, eventually, fast_supervisors
from tests.scaleout.nodes import node_settings

pytestmark = pytest.mark.timeout(60)

PEER = "+40722000000"


async def test_a_modem_name_another_live_node_uses_stops_the_start(
    pg_migrated_url: str, tmp_path: Path
) -> None:
    first = node_settings(pg_migrated_url, "pi-1", {"sim0": tmp_path / "no-such-port"})
    clash = node_settings(pg_migrated_url, "pi-2", {"sim0": tmp_path / "other-port"})
    async with Gateway(first, supervisor_settings=fast_supervisors):
        with pytest.raises(ModemNameTaken, match="'sim0' is already used by node 'pi-1'"):
            await Gateway(clash, supervisor_settings=fast_supervisors).start()


async def test_a_send_queued_on_one_node_is_sent_by_another_nodes_modem(
    pg_migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Workers poll only once a minute here: the wake-up must come from NOTIFY.
    monkeypatch.setattr(daemon, "SHARED_DB_POLL", 60.0)
    async with emulators(tmp_path, "b0") as modems:
        api_node = node_settings(pg_migrated_url, "api-only", {})
        modem_node = node_settings(pg_migrated_url, "pi-b", {"b0": tmp_path / "b0"})
        async with (
            Gateway(modem_node, supervisor_settings=fast_supervisors) as sender,
            Gateway(api_node) as front,
        ):
            await asyncio.wait_for(sender.supervisor("b0").wait_ready(), 15)
            await asyncio.sleep(0.5)  # the worker found the queue empty and sleeps
            queued = await front.submit(
                to=PEER, text="via another node", modem=None, delivery_report=True,
                idempotency_key=None,
            )  # fmt: skip
            assert queued.message.modem is None
            await eventually(lambda: len(modems["b0"].sent()) == 1, within=5)
            detail = await repository.get_message(front.db, queued.message.id)
            assert detail is not None
            assert detail.message.modem == "b0"
            views = {view.name: view for view in await front.modems()}
            assert views["b0"].node == "pi-b"
            assert views["b0"].last_seen is not None


async def test_a_named_modem_of_another_node_is_accepted_and_an_unknown_one_refused(
    pg_migrated_url: str, tmp_path: Path
) -> None:
    async with (
        emulators(tmp_path, "b0") as modems,
        Gateway(
            node_settings(pg_migrated_url, "pi-b", {"b0": tmp_path / "b0"}),
            supervisor_settings=fast_supervisors,
        ),
        Gateway(node_settings(pg_migrated_url, "api-only", {})) as front,
    ):
        named = await front.submit(
            to=PEER, text="for b0", modem="b0", delivery_report=True, idempotency_key=None
        )
        assert named.message.modem == "b0"
        with pytest.raises(SubmitRefused) as unknown:
            await front.submit(
                to=PEER, text="x", modem="nowhere", delivery_report=True, idempotency_key=None
            )
        assert unknown.value.status_code == 422
        await eventually(lambda: len(modems["b0"].sent()) == 1, within=15)
