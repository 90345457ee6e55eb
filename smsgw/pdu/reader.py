"""A bounds-checked cursor over PDU octets.

Every read names the field it is for, so a short or damaged PDU fails with a `PduError`
that says what was expected and at which octet offset, instead of an IndexError from deep
inside a parser.
"""

from __future__ import annotations

from smsgw.exceptions import PduError


class OctetReader:
    """Sequential reader; `offset` counts octets from the start of the whole PDU."""

    __slots__ = ("_data", "offset")

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self._data = data
        self.offset = offset

    @property
    def size(self) -> int:
        return len(self._data)

    @property
    def remaining(self) -> int:
        return len(self._data) - self.offset

    def octet(self, field: str) -> int:
        if self.offset >= len(self._data):
            raise PduError(f"{field}: PDU ends at offset {self.offset}, one more octet expected")
        value = self._data[self.offset]
        self.offset += 1
        return value

    def take(self, count: int, field: str) -> bytes:
        if count > self.remaining:
            raise PduError(
                f"{field}: needs {count} octets at offset {self.offset} "
                f"but only {self.remaining} remain"
            )
        chunk = self._data[self.offset : self.offset + count]
        self.offset += count
        return chunk

    def rest(self) -> bytes:
        """Everything left (possibly nothing); used for user data, which may be cut short."""
        chunk = self._data[self.offset :]
        self.offset = len(self._data)
        return chunk
