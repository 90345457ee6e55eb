"""One `[[modem]]` table: the serial port, the SIM and how often the modem is polled; the
balance, call and recovery keys come from `ModemOptions`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from smsgw.config.base import StrictSection
from smsgw.config.durations import Duration
from smsgw.config.modem_options import ModemOptions

__all__ = ["ModemSection"]

_BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)


class ModemSection(StrictSection, ModemOptions):
    """One `[[modem]]` table: a serial port with a GSM modem behind it (and the balance,
    call and recovery keys of `ModemOptions`)."""

    name: str = Field(description="Unique short name, used in the API and the database.")
    port: str = Field(description="Serial device, e.g. /dev/smsgw/sim800 or /dev/serial0.")
    baud: int = Field(default=115200, description="Serial speed (SIM800 autobauds).")
    pin: SecretStr = Field(
        default=SecretStr(""), description="SIM PIN, entered once (never retried)."
    )
    dialect: Literal["auto", "sim800", "huawei", "generic"] = Field(
        default="auto", description="auto: identify by AT+CGMI/AT+CGMM."
    )
    health_interval: Duration = Field(
        default=timedelta(seconds=30), description="How often signal and registration are polled."
    )
    sweep_interval: Duration = Field(
        default=timedelta(minutes=5),
        description="How often SIM storage is listed for messages whose +CMTI was missed.",
    )
    number: str | None = Field(
        default=None,
        description="The SIM's own number, sent as `recipient` in incoming_sms; "
        "empty: read it from the SIM (AT+CNUM), which most prepaid SIMs do not store.",
    )

    @field_validator("number")
    @classmethod
    def _phone_number(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        number = "".join(value.split())
        if not re.fullmatch(r"\+?[0-9]{3,20}", number):
            raise ValueError(f"{value!r} is not a phone number, e.g. +40721000000")
        return number

    @field_validator("name")
    @classmethod
    def _token(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}", value):
            raise ValueError(
                f"{value!r} is not a modem name: 1-32 letters, digits, '.', '_' or '-'"
            )
        return value

    @field_validator("port")
    @classmethod
    def _nonempty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a serial device, e.g. /dev/smsgw/sim800")
        return value.strip()

    @field_validator("baud")
    @classmethod
    def _standard_baud(cls, value: int) -> int:
        if value not in _BAUD_RATES:
            raise ValueError(f"{value} is not one of {', '.join(map(str, _BAUD_RATES))}")
        return value

    @field_validator("pin")
    @classmethod
    def _pin_digits(cls, value: SecretStr) -> SecretStr:
        pin = value.get_secret_value().strip()
        if pin and not re.fullmatch(r"\d{4,8}", pin):
            raise ValueError("a SIM PIN is 4 to 8 digits")
        return SecretStr(pin)

    @field_validator("health_interval", "sweep_interval")
    @classmethod
    def _at_least_a_second(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value
