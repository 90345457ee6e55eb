"""The inbound pipeline's work items: one small frozen type per kind of unsolicited result.

The channel's reader turns a URC into one of these (it must not block, so it only
classifies); the :class:`~smsgw.modem.inbound.InboundReader`'s worker takes them in arrival
order and dispatches on the type. A type per kind keeps each item's fields meaningful: an
indication always has an index, a routed PDU always has its hex.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smsgw.at.fields import split_fields
from smsgw.at.parser import Urc

__all__ = [
    "ROUTED_PDUS",
    "STORED_INDICATIONS",
    "RegistrationReport",
    "RoutedPdu",
    "StoredIndication",
    "Work",
]

#: URCs announcing an entry written to storage: ``+CMTI`` (message), ``+CDSI`` (report).
STORED_INDICATIONS = frozenset({"+CMTI", "+CDSI"})
#: URCs carrying the PDU itself (routed directly, never stored): message, report.
ROUTED_PDUS = frozenset({"+CMT", "+CDS"})

_INDEX = re.compile(r"^[0-9]{1,5}$")


@dataclass(frozen=True, slots=True)
class StoredIndication:
    """``+CMTI``/``+CDSI: <mem>,<index>``: read the entry, hand it over, then delete it.

    ``storage`` is None when the firmware left the memory name empty (the current one).
    """

    urc: str
    storage: str | None
    index: int

    @classmethod
    def from_urc(cls, urc: Urc) -> StoredIndication | None:
        """The indication, or None when the URC's fields make no usable index (a garbled
        line must not become a read of some other entry)."""
        fields = split_fields(urc.args)
        if len(fields) < 2 or not _INDEX.match(fields[-1]):
            return None
        return cls(urc.name, fields[0].strip('" ') or None, int(fields[-1]))


@dataclass(frozen=True, slots=True)
class RoutedPdu:
    """``+CMT``/``+CDS`` with its PDU line: hand it over, then ``AT+CNMA`` when expected."""

    urc: str
    pdu_hex: str


@dataclass(frozen=True, slots=True)
class RegistrationReport:
    """``+CREG: <stat>[,...]``: the network registration changed."""

    line: str


Work = StoredIndication | RoutedPdu | RegistrationReport
