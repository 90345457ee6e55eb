"""`smsgw pdu decode|encode`: the PDU codec from the shell (CONTRACT.md §4, §6).

decode prints one JSON object per PDU and keeps going past bad lines (each becomes
`{"error": ...}`), so a whole `AT+CMGL` dump can be piped through it; the exit code is 1
at the end when any line failed.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from smsgw.cli.common import EXIT_FAILED, fail
from smsgw.exceptions import PduError
from smsgw.pdu import decode as decode_pdu
from smsgw.pdu import encode_submit
from smsgw.pdu.jsonview import to_json

app = typer.Typer(help="Decode and encode SMS PDUs (3GPP TS 23.040).", no_args_is_help=True)


def _dumps(value: Any) -> str:
    """Readable UTF-8 JSON; falls back to \\u escapes for lone surrogates (split emoji)."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value)
    return text


def _decode_line(line: str, smsc_included: bool) -> tuple[str, bool]:
    try:
        return _dumps(to_json(decode_pdu(line, smsc_included=smsc_included))), True
    except PduError as exc:
        return _dumps({"error": str(exc), "input": line}), False


@app.command()
def decode(
    pdu: str = typer.Argument(
        "-",
        metavar="[HEX|-]",
        help="PDU hex starting with the SMSC octet; '-' reads lines from stdin.",
    ),
    no_smsc: bool = typer.Option(
        False, "--no-smsc", help="The hex is a bare TPDU without the SMSC field."
    ),
) -> None:
    """Decode PDUs and print one JSON object per PDU."""
    lines = sys.stdin if pdu == "-" else [pdu]
    failed = False
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        output, ok = _decode_line(line, not no_smsc)
        print(output, flush=True)
        failed |= not ok
    if failed:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def encode(
    text: str = typer.Argument(..., help="Message text (split into parts when too long)."),
    to: str = typer.Option(..., "--to", help="Recipient: +<country><number> or national digits."),
    srr: bool = typer.Option(False, "--srr", help="Request a delivery status report."),
    smsc: str | None = typer.Option(None, "--smsc", help="SMSC number (default: the modem's)."),
    mr: int = typer.Option(0, "--mr", help="TP-MR of the first part (next parts count up)."),
    flash: bool = typer.Option(False, "--flash", help="Class 0 (flash) message."),
    concat_ref: int | None = typer.Option(
        None, "--concat-ref", help="8-bit concatenation reference (default: random)."
    ),
) -> None:
    """Print a JSON list of {"pdu", "tpdu_length"}, one per part, ready for AT+CMGS."""
    try:
        parts = encode_submit(
            to, text, srr=srr, reference=mr, smsc=smsc, flash=flash, concat_ref=concat_ref
        )
    except PduError as exc:
        fail(str(exc))
    print(_dumps([{"pdu": part.hex, "tpdu_length": part.tpdu_length} for part in parts]))
