"""Runtime settings built from the validated configuration sections.

The layers below the gateway take plain values (the webhook dispatcher's `WebhookSettings`)
and never read `smsgw.config` themselves, so they can be driven from tests, the CLI or a
future configuration source alike. This module is where the TOML shape is translated.
"""

from __future__ import annotations

from smsgw.config import WebhookSection
from smsgw.exceptions import ConfigError
from smsgw.webhook import BackoffPolicy, WebhookSettings

__all__ = ["webhook_settings"]


def webhook_settings(section: WebhookSection) -> WebhookSettings:
    """The dispatcher's settings from the validated `[webhook]` section.

    Raises `ConfigError` when `webhook.url` is empty: with no URL there is nothing to
    dispatch, and the caller (gateway, CLI) decides whether that is an error.
    """
    if not section.url:
        raise ConfigError("is empty: no webhook configured", key="webhook.url")
    return WebhookSettings(
        url=section.url,
        secret=section.secret.get_secret_value(),
        timeout=section.timeout,
        max_age=section.max_age,
        backoff=BackoffPolicy(initial=section.backoff_initial, cap=section.backoff_max),
    )
