"""What a `[[modem]]` does besides SMS: balance checks by USSD, calls, radio recovery.

`ModemSection` (in `sections`) inherits these keys; they live apart because they are one
subject (a prepaid SIM running unattended) and keep `sections` short.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from smsgw.config.durations import Duration

__all__ = ["USSD_CODE", "ModemOptions"]

#: A USSD service code as dialled: `*100#`, `*133*1#`, `#123#`.
USSD_CODE = re.compile(r"^[*#][0-9*#]{1,62}#$")


class ModemOptions(BaseModel):
    """The `[[modem]]` keys for balance, calls and recovery (CONTRACT.md §8)."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)

    balance_ussd: str = Field(
        default="",
        description="USSD code that answers the prepaid balance, e.g. '*133#'. "
        "Empty: no balance checks.",
    )
    balance_pattern: str = Field(
        default=r"(?P<amount>\d+(?:[.,]\d+)?)",
        description="Regex with a group named `amount` that finds the balance in the answer. "
        "Default: the first number.",
    )
    balance_interval: Duration = Field(
        default=timedelta(hours=24), description="How often the balance is checked."
    )
    balance_alert_below: float = Field(
        default=0.0, ge=0, description="Raise a balance_low alert below this amount (0: never)."
    )
    calls: Literal["ignore", "hangup"] = Field(
        default="ignore",
        description="Incoming voice calls: `ignore` lets them ring, `hangup` rejects them after "
        "`call_rings` rings. Either way an incoming_call event is sent when the call ends.",
    )
    call_rings: int = Field(default=1, ge=1, le=20, description="Rings before hanging up.")
    recover_after: Duration = Field(
        default=timedelta(minutes=10),
        description="Restart the radio (AT+CFUN) after the modem has not been registered this "
        "long.",
    )
    recover_max_per_hour: int = Field(
        default=2, ge=0, le=12, description="Radio restarts allowed per hour (0: never)."
    )

    @field_validator("balance_ussd")
    @classmethod
    def _ussd_code(cls, value: str) -> str:
        code = value.strip()
        if code and not USSD_CODE.match(code):
            raise ValueError(f"{value!r} is not a USSD code such as *133# or *100*1#")
        return code

    @field_validator("balance_pattern")
    @classmethod
    def _pattern_with_amount(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"is not a regular expression: {exc}") from None
        if "amount" not in compiled.groupindex:
            raise ValueError("needs a group named amount, e.g. (?P<amount>\\d+[.,]\\d+)")
        return value

    @field_validator("balance_interval", "recover_after")
    @classmethod
    def _at_least_a_minute(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value

    @model_validator(mode="after")
    def _threshold_needs_a_code(self) -> ModemOptions:
        if self.balance_alert_below > 0 and not self.balance_ussd:
            raise ValueError("balance_alert_below needs balance_ussd (the code to ask)")
        return self
