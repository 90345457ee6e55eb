"""Decoded PDUs as plain JSON-ready dicts, with the field names of CONTRACT.md §6.

Lives beside the codec (not in the CLI) so the emulator, API and tests can print a PDU the
same way `smsgw pdu decode` does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from smsgw.pdu.model import Concat, Deliver, Pdu, StatusReport, Submit

JsonDict = dict[str, Any]


def _concat(concat: Concat | None) -> JsonDict | None:
    if concat is None:
        return None
    return {
        "ref": concat.ref,
        "total": concat.total,
        "seq": concat.seq,
        "ref_bits": concat.ref_bits,
    }


def _validity(validity: timedelta | datetime | None) -> JsonDict | None:
    if validity is None:
        return None
    if isinstance(validity, datetime):
        return {"absolute": validity.isoformat()}
    minutes = validity.total_seconds() / 60
    return {"relative_minutes": int(minutes) if minutes.is_integer() else minutes}


def to_json(pdu: Pdu) -> JsonDict:
    """`type`, `smsc`, `number`, ... ; timestamps ISO-8601 with the PDU's own offset."""
    if isinstance(pdu, StatusReport):
        return {
            "type": "SMS-STATUS-REPORT",
            "smsc": pdu.smsc,
            "number": pdu.number,
            "reference": pdu.reference,
            "scts": pdu.scts.isoformat(),
            "discharge_time": pdu.discharge_time.isoformat(),
            "status": pdu.status,
            "outcome": pdu.outcome,
            "tpdu_length": pdu.tpdu_length,
        }
    common: JsonDict = {
        "smsc": pdu.smsc,
        "number": pdu.number,
        "text": pdu.text,
        "data_hex": pdu.data.hex().upper() if pdu.data is not None else None,
        "encoding": pdu.encoding,
        "concat": _concat(pdu.concat),
        "message_class": pdu.message_class,
        "truncated": pdu.truncated,
    }
    if isinstance(pdu, Deliver):
        return {
            "type": "SMS-DELIVER",
            **common,
            "scts": pdu.scts.isoformat(),
            "pid": pdu.pid,
            "dcs": pdu.dcs,
            "tpdu_length": pdu.tpdu_length,
        }
    assert isinstance(pdu, Submit)
    return {
        "type": "SMS-SUBMIT",
        **common,
        "reference": pdu.reference,
        "validity": _validity(pdu.validity),
        "srr": pdu.srr,
        "tpdu_length": pdu.tpdu_length,
    }
