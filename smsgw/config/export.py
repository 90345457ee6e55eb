"""The effective configuration as data a person may see: secrets masked, durations as text.

What `smsgw config check` prints; passwords and keys show only *whether* they are set.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr

from smsgw.config.settings import Settings
from smsgw.redact import mask_url

__all__ = ["MASK", "masked", "to_json"]

MASK = "********"


def masked(settings: Settings) -> dict[str, Any]:
    """The effective configuration as plain JSON-able data with secrets masked.

    Secrets show `********` when set and `""` when empty (so one can see *whether* they are
    configured); URLs show with their secrets masked (`smsgw.redact.mask_url`). Durations
    print as `"48h"`.
    """
    data = settings.model_dump(mode="json")
    data["api"]["key"] = _mask(settings.api.key)
    data["webhook"]["secret"] = _mask(settings.webhook.secret)
    data["webhook"]["url"] = mask_url(settings.webhook.url)
    data["database"]["url"] = mask_url(settings.database.url)
    data["mqtt"]["url"] = mask_url(settings.mqtt.url)
    data["mqtt"]["password"] = _mask(settings.mqtt.password)
    for dumped, modem in zip(data["modem"], settings.modem, strict=True):
        dumped["pin"] = _mask(modem.pin)
    return data


def _mask(secret: SecretStr) -> str:
    return MASK if secret.get_secret_value() else ""


def to_json(settings: Settings) -> str:
    """`masked(settings)` as indented JSON (what `smsgw config check --json` prints)."""
    return json.dumps(masked(settings), indent=2, ensure_ascii=False)
