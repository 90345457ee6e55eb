"""The table the line interpreter looks commands up in, and how handlers register.

A handler gets the `DeviceState` and the parsed command, returns the information lines of
its reply (one response block; an empty list for none) and raises `CommandFailed` for an
error result; the interpreter frames the reply (echo, `\\r\\n`, final result spelled per
profile and `AT+CMEE`). Behaviour that differs between firmwares is read from
`state.profile`, never decided by the profile's name.
"""

from __future__ import annotations

from collections.abc import Callable

from smsgw.emulator.atline import Command, Form
from smsgw.emulator.state import DeviceState, int_arg

Handler = Callable[[DeviceState, Command], list[str]]
#: Command name (`+CMGS`, `E`, `^CURC`) -> handler.
HANDLERS: dict[str, Handler] = {}

#: Commands a SIM-PIN-locked modem still answers (everything else: +CME ERROR: 11).
NO_SIM_NEEDED = frozenset(
    {
        "E", "V", "Q", "Z", "&F", "&W", "&V", "I", "X", "H", "&C", "&D",
        "+CGMI", "+GMI", "+CGMM", "+GMM", "+CGMR", "+GMR", "+CGSN", "+GSN", "+GCAP",
        "+CMEE", "+CPIN", "+CFUN", "+CSQ", "+IPR", "+CLAC", "^CURC", "^PORTSEL", "+CIURC",
        "+CHUP",
    }
)  # fmt: skip
#: Commands that fail until the SMS part of the firmware is up ("SMS Ready" on SIM800).
SMS_COMMANDS = frozenset(
    {
        "+CMGF", "+CPMS", "+CNMI", "+CMGR", "+CMGL", "+CMGS", "+CMGW", "+CMSS",
        "+CMGD", "+CMGDA", "+CSCA", "+CSMP", "+CSMS", "+CNMA", "+CSDH",
    }
)  # fmt: skip


def handles(*names: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = function
        return function

    return register


def numeric_setting(name: str, attribute: str, highest: int, test: str) -> None:
    """Register `AT<name>?`, `AT<name>=?` and `AT<name>=<n>` for a plain 0..highest setting
    kept in `state.settings.<attribute>` (a missing value means 0, as on real modems)."""

    def handler(state: DeviceState, command: Command) -> list[str]:
        if command.form is Form.READ:
            return [f"{name}: {getattr(state.settings, attribute)}"]
        if command.form is Form.TEST:
            return [f"{name}: {test}"]
        value = int_arg((command.args() or ["0"])[0] or "0", 0, highest)
        setattr(state.settings, attribute, value)
        return []

    HANDLERS[name] = handler


def first_arg(command: Command) -> str | None:
    args = command.args()
    return args[0] if args else None
