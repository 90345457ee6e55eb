"""The exception tree shared by every layer.

Callers catch by meaning, not by origin::

    SmsgwError
    ├── PduError               a PDU that cannot be decoded or a text that cannot be encoded
    ├── ConfigError            bad configuration (file, key, reason)
    ├── AtError                anything the AT layer reports
    │   ├── AtTimeout          no final result in time (also a TimeoutError)
    │   ├── AtConnectionLost   the port went away while a command was pending
    │   ├── AtCommandError     final ERROR / COMMAND NOT SUPPORT
    │   ├── CmeError(code)     +CME ERROR: equipment / SIM
    │   ├── CmsError(code)     +CMS ERROR: SMS service
    │   └── AtResponseError    a reply line the response parsers cannot make sense of
    ├── ModemError             the modem layer could not do what was asked
    │   ├── ModemNotReady      no usable modem right now
    │   ├── SimError           SIM missing / PIN / PUK: needs a human (wrong PIN never retried)
    │   ├── SendFailed         a message (or some of its parts) was not sent
    │   ├── UssdBusy           the modem is in another USSD session (one at a time)
    │   └── UssdFailed         the network or the modem refused a USSD request
    ├── StoreError             the database refused or is unreachable
    └── SubmitRefused          a send the gateway will not queue (422 / 429)

Layers raise only these (or subclasses), so nothing above the driver has to know about
pyserial, SQLAlchemy or httpx exceptions.
"""

from __future__ import annotations


class SmsgwError(Exception):
    """Base class of every error smsgw raises on purpose."""


class PduError(SmsgwError, ValueError):
    """A PDU could not be decoded (or a message could not be encoded); the message says where."""


class ConfigError(SmsgwError):
    """Configuration is invalid; carries the file, the key and what is wrong."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        self.file = file
        self.key = key
        where = ": ".join(part for part in (file, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class AtError(SmsgwError):
    """Base of the errors the AT layer reports."""


class AtTimeout(AtError, TimeoutError):
    """A command got no final result code within its timeout."""


class AtConnectionLost(AtError, ConnectionError):
    """The serial port closed or vanished while a command was pending."""


class AtCommandError(AtError):
    """A command ended with `ERROR` or a vendor equivalent (`COMMAND NOT SUPPORT`)."""

    def __init__(self, command: str, result: str = "ERROR") -> None:
        self.command = command
        self.result = result
        super().__init__(f"{command!r} -> {result}")


class _CodedError(AtError):
    """An error result with a numeric (or, with AT+CMEE=2, verbose) cause."""

    prefix = ""

    def __init__(self, code: int | None, text: str = "", command: str = "") -> None:
        self.code = code
        self.text = text
        self.command = command
        cause = str(code) if code is not None else text
        super().__init__(f"{self.prefix}: {cause}" + (f" (after {command!r})" if command else ""))


class CmeError(_CodedError):
    """`+CME ERROR: <n>`: mobile equipment or SIM error (3GPP TS 27.007 §9.2)."""

    prefix = "+CME ERROR"


class CmsError(_CodedError):
    """`+CMS ERROR: <n>`: SMS service error (3GPP TS 27.005 §3.2.5)."""

    prefix = "+CMS ERROR"


class AtResponseError(AtError, ValueError):
    """An information line did not have the shape its command promises (the parsers in smsgw.at)."""

    def __init__(self, what: str, line: str) -> None:
        self.what = what
        self.line = line
        super().__init__(f"cannot parse {what} from {line[:120]!r}")


class ModemError(SmsgwError):
    """The modem layer could not complete an operation."""


class ModemNotReady(ModemError):
    """No modem is in a state that can do this right now."""


class SimError(ModemError):
    """The SIM blocks initialisation: not inserted, PIN needed or rejected, PUK needed.

    ``retryable`` is False when trying again could make things worse (a rejected PIN:
    three wrong tries lock the SIM) or cannot help without a human (PUK).
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        self.retryable = retryable
        super().__init__(message)


class SendFailed(ModemError):
    """Sending failed. ``references`` holds the TP-MR of every part that *was* accepted
    (so a retry can skip or report them); ``uncertain`` is True when the link died after a
    part was handed to the modem, so that part may or may not have gone out."""

    def __init__(
        self,
        message: str,
        *,
        parts: int,
        references: tuple[int, ...] = (),
        cms_code: int | None = None,
        uncertain: bool = False,
    ) -> None:
        self.parts = parts
        self.references = references
        self.cms_code = cms_code
        self.uncertain = uncertain
        super().__init__(message)


class UssdBusy(ModemError):
    """The modem already has a USSD session open: one session per modem at a time."""


class UssdFailed(ModemError):
    """A USSD request was refused by the modem (ERROR, +CME) or the network (``+CUSD: 4``);
    the message says which and why."""


class StoreError(SmsgwError):
    """The database failed or is unreachable."""


class SubmitRefused(SmsgwError):
    """The gateway will not queue a send.

    `status_code` is 422 (unknown modem, too many parts, empty text) or 429 (daily limit
    reached); `detail` is the human message the API returns as ``{"detail": ...}``.
    """

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
