"""Message storages (SM, ME, SR, and the combined MT view) with 27.005 stats and capacities.

A storage keeps PDUs exactly as they arrived (hex with the SMSC octet), so corpus PDUs
fed in verbatim come back out of `AT+CMGR` byte for byte. Indices are what the host sees:
the profile's base (1 on SIM800, 0 on Huawei) is applied here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator, Mapping


class Stat(enum.IntEnum):
    """27.005 `<stat>` in PDU mode; the text-mode names are `Stat.text`."""

    REC_UNREAD = 0
    REC_READ = 1
    STO_UNSENT = 2
    STO_SENT = 3

    @property
    def text(self) -> str:
        return self.name.replace("_", " ")


STAT_ALL = 4
TEXT_STATS: Mapping[str, int] = {
    "REC UNREAD": 0,
    "REC READ": 1,
    "STO UNSENT": 2,
    "STO SENT": 3,
    "ALL": STAT_ALL,
}


class StorageFull(Exception):
    """No free slot: the device answers `+CMS ERROR: 322` and sends no `+CMTI`."""


class InvalidIndex(Exception):
    """Index out of range or empty slot: `+CMS ERROR: 321`."""


@dataclasses.dataclass(slots=True)
class StoredMessage:
    """One slot's content: the PDU hex (with SMSC octet) and its 27.005 stat."""

    stat: Stat
    pdu_hex: str
    tpdu_length: int


def tpdu_length_of(pdu_hex: str) -> int:
    """TPDU octets excluding the SMSC field, derived from the PDU itself (never trusted input)."""
    smsc_len = int(pdu_hex[0:2], 16)
    return len(pdu_hex) // 2 - 1 - smsc_len


class Storage:
    """A fixed number of numbered slots; the first free slot is used, as on real SIMs."""

    def __init__(self, name: str, capacity: int, index_base: int) -> None:
        self.name = name
        self.capacity = capacity
        self.index_base = index_base
        self._slots: list[StoredMessage | None] = [None] * capacity

    @property
    def used(self) -> int:
        return sum(1 for slot in self._slots if slot is not None)

    @property
    def is_full(self) -> bool:
        return self.used >= self.capacity

    def index_range(self) -> tuple[int, int]:
        """First and last valid host-visible index."""
        return self.index_base, self.index_base + self.capacity - 1

    def store(self, stat: Stat, pdu_hex: str) -> int:
        """Put a PDU in the first free slot; returns the host-visible index."""
        for position, slot in enumerate(self._slots):
            if slot is None:
                self._slots[position] = StoredMessage(
                    stat, pdu_hex.upper(), tpdu_length_of(pdu_hex)
                )
                return position + self.index_base
        raise StorageFull(self.name)

    def _position(self, index: int) -> int:
        position = index - self.index_base
        if not 0 <= position < self.capacity:
            raise InvalidIndex(f"{self.name} index {index} outside {self.index_range()}")
        return position

    def get(self, index: int) -> StoredMessage:
        """The message at `index`; InvalidIndex when out of range or empty."""
        slot = self._slots[self._position(index)]
        if slot is None:
            raise InvalidIndex(f"{self.name} index {index} is empty")
        return slot

    def read(self, index: int) -> StoredMessage:
        """Like get(), and an unread message becomes read (27.005 CMGR semantics)."""
        message = self.get(index)
        snapshot = StoredMessage(message.stat, message.pdu_hex, message.tpdu_length)
        if message.stat is Stat.REC_UNREAD:
            message.stat = Stat.REC_READ
        return snapshot

    def delete(self, index: int) -> None:
        """Empty one slot; deleting an already empty slot is fine (OK on real modems)."""
        self._slots[self._position(index)] = None

    def delete_by_flag(self, delflag: int) -> None:
        """`AT+CMGD=<i>,<delflag>` bulk forms: 1 read, 2 +sent, 3 +unsent, 4 everything."""
        doomed = {
            1: {Stat.REC_READ},
            2: {Stat.REC_READ, Stat.STO_SENT},
            3: {Stat.REC_READ, Stat.STO_SENT, Stat.STO_UNSENT},
            4: set(Stat),
        }[delflag]
        for position, slot in enumerate(self._slots):
            if slot is not None and slot.stat in doomed:
                self._slots[position] = None

    def items(self) -> Iterator[tuple[int, StoredMessage]]:
        """(index, message) for every occupied slot in index order."""
        for position, slot in enumerate(self._slots):
            if slot is not None:
                yield position + self.index_base, slot


class CombinedStorage(Storage):
    """The "MT" view: the listed storages one after the other (SM first, then ME).

    Indices continue across the parts, so with SM=50 slots, MT index base+50 is ME's first.
    """

    def __init__(self, name: str, parts: list[Storage], index_base: int) -> None:
        super().__init__(name, 0, index_base)
        self._parts = parts
        self.capacity = sum(part.capacity for part in parts)

    @property
    def used(self) -> int:
        return sum(part.used for part in self._parts)

    def _locate(self, index: int) -> tuple[Storage, int]:
        position = index - self.index_base
        if position < 0:
            raise InvalidIndex(f"{self.name} index {index} below {self.index_base}")
        for part in self._parts:
            if position < part.capacity:
                return part, position + part.index_base
            position -= part.capacity
        raise InvalidIndex(f"{self.name} index {index} outside {self.index_range()}")

    def _offset(self, target: Storage) -> int:
        offset = 0
        for part in self._parts:
            if part is target:
                return offset
            offset += part.capacity
        raise AssertionError("storage is not part of this view")

    def store(self, stat: Stat, pdu_hex: str) -> int:
        for part in self._parts:
            if not part.is_full:
                part_index = part.store(stat, pdu_hex)
                return part_index - part.index_base + self._offset(part) + self.index_base
        raise StorageFull(self.name)

    def get(self, index: int) -> StoredMessage:
        part, part_index = self._locate(index)
        return part.get(part_index)

    def read(self, index: int) -> StoredMessage:
        part, part_index = self._locate(index)
        return part.read(part_index)

    def delete(self, index: int) -> None:
        part, part_index = self._locate(index)
        part.delete(part_index)

    def delete_by_flag(self, delflag: int) -> None:
        for part in self._parts:
            part.delete_by_flag(delflag)

    def items(self) -> Iterator[tuple[int, StoredMessage]]:
        for part in self._parts:
            base = self._offset(part) + self.index_base - part.index_base
            for part_index, message in part.items():
                yield part_index + base, message


class StorageSet:
    """All storages of one device, resolving aliases ("SM_P" -> SM) and the MT view."""

    def __init__(
        self,
        capacities: Mapping[str, int],
        aliases: Mapping[str, str],
        combined_mt: tuple[str, ...],
        index_base: int,
    ) -> None:
        self._real = {name: Storage(name, cap, index_base) for name, cap in capacities.items()}
        self._aliases = dict(aliases)
        self._views: dict[str, Storage] = dict(self._real)
        if combined_mt:
            self._views["MT"] = CombinedStorage(
                "MT", [self._real[n] for n in combined_mt], index_base
            )

    def names(self) -> list[str]:
        return [*self._views, *self._aliases]

    def get(self, name: str) -> Storage:
        """The storage called `name` (alias-resolved); KeyError when the profile lacks it."""
        return self._views[self._aliases.get(name, name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._views or name in self._aliases)
