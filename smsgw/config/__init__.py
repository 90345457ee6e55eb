"""Configuration: one TOML file plus `SMSGW_<SECTION>__<KEY>` environment overrides.

Why this shape: a gateway on a Raspberry Pi is configured once in `/etc/smsgw/smsgw.toml`
and sometimes tweaked from a systemd drop-in or a container's environment, so the file is
the base and the environment wins key by key. Every key is validated up front, and a bad one
stops the daemon *before* it touches a modem, with the file, the dotted key (`modem[1].baud`)
and what is wrong. Unknown keys are errors too: a typo (`histroy_size`) must not silently
fall back to a default.

Environment overrides (the variable names are case-insensitive):

- `SMSGW_<SECTION>__<KEY>` sets one scalar, e.g. `SMSGW_API__LISTEN=0.0.0.0:8080`,
  `SMSGW_WEBHOOK__MAX_AGE=2d`. It overrides only that key; the rest of the section still
  comes from the file.
- `SMSGW_<SECTION>` holding a JSON object sets several keys of a section at once.
- `SMSGW_MODEM` holding a JSON array of modem tables *replaces* the file's whole
  `[[modem]]` list (lists cannot be merged element by element in a way anyone can predict),
  e.g. `SMSGW_MODEM='[{"name": "sim800", "port": "/dev/smsgw/sim800"}]'`.
- `SMSGW_STATE_DIR` is not a configuration key: it chooses the state directory (see
  `state_dir`).

One module per job, lowest first (import-linter keeps this order):

- `durations`: the `"48h"` syntax, parsed and printed back.
- `urls`: database URLs checked without SQLAlchemy (one line, never the password).
- `sections`: one model per TOML table (`ApiSection`, `WebhookSection`, ...); `base` their
  strict base, `modem_section` the `[[modem]]` table.
- `mqtt`: the `[mqtt]` table (broker URL, topics, Home Assistant discovery).
- `retention`: the `[retention]` table (how long history is kept).
- `state`: the state directory (chosen like the service's, kept at 0700), the default
  database file and config path.
- `settings`: the root `Settings` and the rules that span sections.
- `problems`: a validation error as one `source: key: reason` line (`InvalidConfig`).
- `loading`: `load_settings`, file plus environment.
- `apikey`: the configured or generated API key.
- `export`: the masked view `smsgw config check` prints.

The package is a leaf: it imports pydantic and pydantic-settings, never another smsgw layer
(only `smsgw.exceptions`).
"""

from smsgw.config.apikey import ensure_api_key
from smsgw.config.durations import MAX_DURATION, Duration, Seconds, format_duration, parse_duration
from smsgw.config.export import masked, to_json
from smsgw.config.loading import load_settings
from smsgw.config.modem_section import ModemSection
from smsgw.config.mqtt import MqttSection
from smsgw.config.problems import InvalidConfig
from smsgw.config.retention import RetentionSection
from smsgw.config.sections import (
    ApiSection,
    DatabaseSection,
    LimitsSection,
    LogSection,
    NodeSection,
    OptOutSection,
    UiSection,
    WebhookSection,
)
from smsgw.config.settings import ENV_PREFIX, Settings
from smsgw.config.state import (
    API_KEY_FILENAME,
    DEFAULT_CONFIG_PATH,
    default_config_path,
    default_database_url,
    prepare_state_dir,
    state_dir,
)

__all__ = [
    "API_KEY_FILENAME",
    "DEFAULT_CONFIG_PATH",
    "ENV_PREFIX",
    "MAX_DURATION",
    "ApiSection",
    "DatabaseSection",
    "Duration",
    "InvalidConfig",
    "LimitsSection",
    "LogSection",
    "ModemSection",
    "MqttSection",
    "NodeSection",
    "OptOutSection",
    "RetentionSection",
    "Seconds",
    "Settings",
    "UiSection",
    "WebhookSection",
    "default_config_path",
    "default_database_url",
    "ensure_api_key",
    "format_duration",
    "load_settings",
    "masked",
    "parse_duration",
    "prepare_state_dir",
    "state_dir",
    "to_json",
]
