"""Reading, listing and deleting entries of the modem's message storage.

Indexes are always the ones the modem reported (``+CMTI``, ``+CMGL``), never computed, so
zero- and one-based firmwares behave the same (PROTOCOL.md §3.3.4). The PDU line is taken
as the line after the ``+CMGR``/``+CMGL`` header: the parser drops blank lines, so a
firmware that puts an empty line between header and PDU and one that does not read alike.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from smsgw import pdu
from smsgw.at import commands as cmd
from smsgw.at.messages import ListedMessage, parse_cmgl_header, parse_cmgr_header
from smsgw.exceptions import AtResponseError, CmsError, PduError
from smsgw.modem.values import StoredMessage

if TYPE_CHECKING:
    from smsgw.modem.base import Modem

__all__ = ["StoredEntries", "decode_entry"]

log = logging.getLogger(__name__)

#: ``+CMS ERROR: 321`` (invalid memory index): the entry is not (or no longer) there.
INVALID_INDEX = frozenset({321})


def decode_entry(storage: str, index: int, stat: int | None, pdu_hex: str) -> StoredMessage:
    """The entry with its PDU decoded, or with the decoder's complaint when it does not."""
    try:
        return StoredMessage(storage, index, stat, pdu_hex, pdu.decode(pdu_hex))
    except PduError as exc:
        return StoredMessage(storage, index, stat, pdu_hex, None, str(exc))


class StoredEntries:
    """The message storage the modem has selected, through its AT channel."""

    def __init__(self, modem: Modem) -> None:
        self._modem = modem

    @property
    def _current(self) -> str:
        return self._modem.storage or "?"

    async def read(self, index: int) -> StoredMessage:
        """``AT+CMGR=<index>`` in the current storage."""
        reply = await self._modem.run(cmd.read_message(index))
        header = parse_cmgr_header(reply.first("+CMGR"))
        position = next(i for i, ln in enumerate(reply.lines) if ln.upper().startswith("+CMGR"))
        body = reply.lines[position + 1 : position + 2]
        if not body:
            raise AtResponseError("+CMGR PDU line", " | ".join(reply.lines))
        return decode_entry(self._current, index, header.stat, body[0])

    async def read_announced(self, storage: str | None, index: int) -> StoredMessage | None:
        """Read the entry a URC announced; None when it is already gone (deleted meanwhile,
        e.g. by a sweep that saw it first)."""
        try:
            entry = await self.read(index)
        except CmsError as exc:
            if exc.code in INVALID_INDEX:
                log.debug("%s: index %d already gone", self._modem.modem_id, index)
                return None
            raise
        return entry if storage is None else dataclasses.replace(entry, storage=storage)

    async def list_all(self) -> list[StoredMessage]:
        """``AT+CMGL=4``: everything in the current storage (DELIVER, SUBMIT, REPORT)."""
        reply = await self._modem.run(cmd.list_messages(4))
        entries: list[StoredMessage] = []
        header: ListedMessage | None = None
        for line in reply.lines:
            if line.upper().startswith("+CMGL"):
                try:
                    header = parse_cmgl_header(line)
                except AtResponseError as exc:
                    log.warning("%s: %s", self._modem.modem_id, exc)
                    header = None
            elif header is not None:
                entries.append(decode_entry(self._current, header.index, header.stat, line))
                header = None
        return entries

    async def delete(self, index: int) -> None:
        await self._modem.run(cmd.delete_message(index))

    async def delete_handled(self, entry: StoredMessage) -> None:
        """``AT+CMGD`` of an entry whose sink returned; an index already gone is fine."""
        try:
            await self.delete(entry.index)
        except CmsError as exc:
            if exc.code not in INVALID_INDEX:
                raise

    def is_elsewhere(self, storage: str | None) -> bool:
        """True when `storage` names a memory other than the selected one (Huawei's "SR"
        for ``+CDSI``): its entries need `switched_to` around their read and delete."""
        current = self._modem.storage
        return storage is not None and current is not None and storage != current

    @contextlib.asynccontextmanager
    async def switched_to(self, storage: str | None) -> AsyncIterator[None]:
        """Select `storage` for the body (``AT+CMGR``/``AT+CMGD`` act on the selected
        memory), then the usual one again, also when the body failed."""
        switched = self.is_elsewhere(storage)
        if switched:
            assert storage is not None
            await self._modem.run(cmd.storage_select(storage))
        try:
            yield
        finally:
            current = self._modem.storage
            if switched and current is not None:
                await self._modem.run(cmd.storage_select(current))
