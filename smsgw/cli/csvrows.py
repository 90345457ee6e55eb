"""Reading and checking a bulk-send CSV file before a single row is sent.

A file that is half-understood is worse than one refused: a `;`-separated export from a
spreadsheet, a quote that never closes or a row with a column missing would otherwise send
the first rows and fail (or send garbage) further down. So the whole file is read and
checked first, and the first problem stops everything with its line number and what is
wrong.

Each row is identified by its content (recipient, text and the optional `id` column), not by
its position in a file: an edited file re-run sends only the rows that are new, and the same
message to the same number is recognised as already sent wherever it appears.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from smsgw.config import parse_duration
from smsgw.exceptions import PduError
from smsgw.pdu import Encoding, count_parts

#: Rows beyond this are refused up front: the file is read whole before anything is sent.
MAX_CSV_ROWS = 100_000
#: Bytes read at most (100,000 rows of a few hundred characters).
MAX_CSV_BYTES = 64 * 1024 * 1024
REQUIRED = ("to", "text")
#: `send_at`, `validity`, `flash` and `encoding` are the API's sending options, per row; an
#: empty cell leaves the option to the command line (or the API's default).
OPTIONS = ("send_at", "validity", "flash", "encoding")
OPTIONAL = ("modem", "id", *OPTIONS)
_FLASH_WORDS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
_ENCODINGS: dict[str, Encoding | None] = {"auto": None, "gsm7": "gsm7", "ucs2": "ucs2"}
#: Separators a spreadsheet may have used instead of the comma smsgw reads.
_OTHER_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}
HEADER_HINT = "header: to,text[,modem][,id][,send_at][,validity][,flash][,encoding]"


class CsvProblem(Exception):
    """The file cannot be sent as it is; `str()` is `FILE:LINE: what is wrong`."""


@dataclasses.dataclass(frozen=True, slots=True)
class CsvRow:
    line: int
    to: str
    text: str
    modem: str | None
    row_id: str | None
    parts: int
    encoding: str
    #: The sending options this row sets (API body fields), to override the command line's.
    options: dict[str, Any] = dataclasses.field(default_factory=dict)

    def content_key(self) -> str:
        """The idempotency key of this row: the same recipient, text and `id` give the same
        key in any file and at any line."""
        content = json.dumps([self.to, self.text, self.row_id], ensure_ascii=False)
        return "csv:" + hashlib.sha256(content.encode("utf-8")).hexdigest()[:40]


def read_rows(path: Path, *, max_parts: int) -> list[CsvRow]:
    """Every data row of `path`, checked; CsvProblem at the first thing that is wrong."""
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise CsvProblem(f"{path}:1: {_describe(exc)}") from None
    if header is None:
        raise CsvProblem(f"{path}: the file is empty ({HEADER_HINT})")
    columns = [name.strip().lower() for name in header]
    _check_header(path, columns, text.partition("\n")[0])
    rows: list[CsvRow] = []
    line = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise CsvProblem(f"{path}:{line}: {_describe(exc)}") from None
        if any(field.strip() for field in fields):
            if len(rows) >= MAX_CSV_ROWS:
                raise CsvProblem(f"{path}: more than {MAX_CSV_ROWS} rows; split the file")
            rows.append(_row(path, line, columns, fields, max_parts))
        line = reader.line_num + 1
    return rows


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise CsvProblem(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_CSV_BYTES:
        raise CsvProblem(f"{path}: larger than {MAX_CSV_BYTES // (1024 * 1024)} MiB; split it")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CsvProblem(f"{path}:{line}: not UTF-8 text (save the file as UTF-8 CSV)") from None


def _check_header(path: Path, columns: list[str], first_line: str) -> None:
    missing = [name for name in REQUIRED if name not in columns]
    if not missing:
        duplicated = sorted({name for name in columns if name and columns.count(name) > 1})
        if duplicated:
            raise CsvProblem(f"{path}:1: column {', '.join(duplicated)} appears twice")
        return
    for separator, called in _OTHER_SEPARATORS.items():
        if separator in first_line:
            raise CsvProblem(
                f"{path}:1: the columns are separated by {called}; smsgw reads "
                f"comma-separated files ({HEADER_HINT})"
            )
    raise CsvProblem(
        f"{path}:1: the header has no {' or '.join(f'`{m}`' for m in missing)} column "
        f"({HEADER_HINT})"
    )


def _row(path: Path, line: int, columns: list[str], fields: list[str], max_parts: int) -> CsvRow:
    if len(fields) != len(columns):
        raise CsvProblem(
            f"{path}:{line}: {len(fields)} field{'s' * (len(fields) != 1)}, the header has "
            f"{len(columns)} ({','.join(columns)}); a missing or extra comma?"
        )
    values = dict(zip(columns, fields, strict=True))
    to = values["to"].strip()
    text = values["text"]
    if not to:
        raise CsvProblem(f"{path}:{line}: `to` is empty")
    if not text.strip():
        raise CsvProblem(f"{path}:{line}: `text` is empty")
    try:
        options = row_options(values)
    except ValueError as exc:
        raise CsvProblem(f"{path}:{line}: {exc}") from None
    forced = _ENCODINGS[options.get("encoding", "auto")]
    try:
        counted = count_parts(text, forced)
    except PduError as exc:
        how = f"as {forced}" if forced else "as an SMS"
        raise CsvProblem(f"{path}:{line}: the text cannot be sent {how}: {exc}") from None
    if counted.parts > max_parts:
        raise CsvProblem(
            f"{path}:{line}: the text needs {counted.parts} SMS parts; "
            f"limits.max_parts is {max_parts}"
        )
    return CsvRow(
        line=line,
        to=to,
        text=text,
        modem=values.get("modem", "").strip() or None,
        row_id=values.get("id", "").strip() or None,
        parts=counted.parts,
        encoding=str(counted.encoding),
        options=options,
    )


def row_options(values: dict[str, str]) -> dict[str, Any]:
    """The sending options of one row (non-empty cells only), checked as far as the file
    alone allows; ValueError names the column. The daemon checks them again."""
    options: dict[str, Any] = {}
    send_at = values.get("send_at", "").strip()
    if send_at:
        try:
            when = datetime.datetime.fromisoformat(send_at)
        except ValueError:
            raise ValueError(f"send_at: {send_at!r} is not an ISO-8601 time") from None
        if when.utcoffset() is None:
            raise ValueError(f"send_at: {send_at!r} has no UTC offset (+02:00, or Z)")
        options["send_at"] = send_at
    validity = values.get("validity", "").strip()
    if validity:
        try:
            parse_duration(validity)
        except ValueError as exc:
            raise ValueError(f"validity: {exc}") from None
        options["validity"] = validity
    flash = values.get("flash", "").strip().lower()
    if flash:
        if flash not in _FLASH_WORDS:
            raise ValueError(f"flash: {flash!r} is not one of {', '.join(_FLASH_WORDS)}")
        options["flash"] = _FLASH_WORDS[flash]
    encoding = values.get("encoding", "").strip().lower()
    if encoding:
        if encoding not in _ENCODINGS:
            raise ValueError(f"encoding: {encoding!r} is not one of auto, gsm7, ucs2")
        options["encoding"] = encoding
    return options


def _describe(error: csv.Error) -> str:
    message = str(error)
    if "unexpected end of data" in message:
        return 'a quoted field is never closed (a " without its closing ")'
    if "expected after" in message:
        return f'text after a closing quote ({message}); quotes inside a field are written ""'
    return message
