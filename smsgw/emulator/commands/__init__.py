"""The AT commands the emulated modem understands, one small handler each, by job:
`basic` (V.250, identity, vendor settings), `radio` (SIM, registration, operator, calls),
`sms_settings`, `sms_storage` (read, list, delete), `sms_send`, `ussd`.

Importing this package registers every handler in `HANDLERS`.
"""

from smsgw.emulator.commands import basic, radio, sms_send, sms_settings, sms_storage, ussd
from smsgw.emulator.commands.basic import plain_setting, s_register
from smsgw.emulator.commands.registry import HANDLERS, NO_SIM_NEEDED, SMS_COMMANDS, Handler

__all__ = [
    "HANDLERS",
    "NO_SIM_NEEDED",
    "SMS_COMMANDS",
    "Handler",
    "basic",
    "plain_setting",
    "radio",
    "s_register",
    "sms_send",
    "sms_settings",
    "sms_storage",
    "ussd",
]
