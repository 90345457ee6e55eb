"""Runtime settings built from the validated configuration sections.

The layers below the gateway take plain values (the webhook dispatcher's `WebhookSettings`)
and never read `smsgw.config` themselves, so they can be driven from tests, the CLI or a
future configuration source alike. This module is where the TOML shape is translated.
"""

from __future__ import annotations

from smsgw.config import ModemSection, WebhookSection
from smsgw.exceptions import ConfigError
from smsgw.modem import ModemSettings, SupervisorSettings
from smsgw.webhook import BackoffPolicy, WebhookSettings

__all__ = ["modem_settings_of", "supervisor_settings_of", "webhook_settings"]


def modem_settings_of(modem: ModemSection) -> ModemSettings:
    """The modem layer's settings for one `[[modem]]`: PIN and call handling."""
    return ModemSettings(
        pin=modem.pin.get_secret_value() or None, calls=modem.calls, call_rings=modem.call_rings
    )


def supervisor_settings_of(modem: ModemSection) -> SupervisorSettings:
    """The supervisor's settings for one `[[modem]]`: dialect, polling and radio recovery."""
    return SupervisorSettings(
        dialect=None if modem.dialect == "auto" else modem.dialect,
        health_interval=modem.health_interval.total_seconds(),
        sweep_interval=modem.sweep_interval.total_seconds(),
        recover_after=modem.recover_after.total_seconds(),
        recover_max_per_hour=modem.recover_max_per_hour,
    )


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
