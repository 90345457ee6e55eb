"""`smsgw pdu decode|encode` (built with the PDU codec)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Decode and encode SMS PDUs (3GPP TS 23.040).", no_args_is_help=True)
