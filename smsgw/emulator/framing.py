"""How the modem puts text on the wire: response blocks, final result codes, the buffer.

V.250 frames every information response and every result code as `\\r\\n<text>\\r\\n`. A
response of several lines is one block: a `+CMGR:`/`+CMGL:`/`+CMT:` header is followed by
its PDU or text on the very next line (`\\r\\n+CMGR: 0,,24\\r\\n<pdu>\\r\\n`, then
`\\r\\nOK\\r\\n`), as the captures in PROTOCOL.md §1 and §5.2 show. Strict line readers
take "the line after the header" as the PDU, so a blank line in between loses messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

CME_TEXT = {
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required",
    16: "incorrect password",
    21: "invalid index",
    30: "no network service",
    100: "unknown",
}
CMS_TEXT = {
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    305: "invalid text mode parameter",
    321: "invalid memory index",
    322: "memory full",
    330: "SMSC address unknown",
    331: "no network service",
    340: "no +CNMA acknowledgement expected",
    500: "unknown error",
}


def frame_block(lines: Sequence[str]) -> str:
    """One information response (or URC): `\\r\\n`, the lines joined by `\\r\\n`, `\\r\\n`.

    An empty last line is one extra CRLF: Huawei's blank line after `+CSCS: "GSM"` (§3.3.7).
    """
    return "\r\n" + "\r\n".join(lines) + "\r\n"


def final_result(kind: str, code: int, unknown_command: str, cmee: int) -> str:
    """The final result line: OK, ERROR, the profile's unknown-command answer, or a
    `+CME`/`+CMS ERROR` spelled as `AT+CMEE` asks (numeric with 1, verbose with 2)."""
    if kind == "ok":
        return "OK"
    if kind == "unknown":
        return unknown_command
    if kind == "error" or cmee == 0:
        return "ERROR"
    prefix, texts = ("+CME ERROR", CME_TEXT) if kind == "cme" else ("+CMS ERROR", CMS_TEXT)
    if cmee == 2:
        return f"{prefix}: {texts.get(code, 'unknown error')}"
    return f"{prefix}: {code}"


class Output:
    """Bytes waiting for the host, and who to tell when there are some.

    Nothing leaves a module that is off or hung (`powered`, `unresponsive`).
    """

    def __init__(self) -> None:
        self.powered = False
        self.unresponsive = False
        self._buffer = bytearray()
        self._listener: Callable[[], None] | None = None

    def set_listener(self, callback: Callable[[], None] | None) -> None:
        self._listener = callback

    def read(self) -> bytes:
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    def clear(self) -> None:
        self._buffer.clear()

    def raw(self, data: bytes) -> None:
        if not self.powered or self.unresponsive or not data:
            return
        self._buffer.extend(data)
        if self._listener is not None:
            self._listener()

    def blocks(self, blocks: Iterable[Sequence[str]]) -> None:
        self.raw("".join(frame_block(block) for block in blocks).encode())
