"""The root model: every section together, and the rules that span sections.

`Settings()` alone reads only the process environment (pydantic-settings); the commands use
`load_settings`, which adds the TOML file and turns every problem into one line.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from smsgw.config.modem_section import ModemSection
from smsgw.config.mqtt import MqttSection
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
from smsgw.config.state import default_database_url, state_dir

__all__ = ["ENV_DELIMITER", "ENV_PREFIX", "KeyedValueError", "Settings", "section_model"]

ENV_PREFIX = "SMSGW_"
ENV_DELIMITER = "__"


class KeyedValueError(ValueError):
    """A cross-field problem that still knows which key to blame."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


class Settings(BaseSettings):
    """The whole configuration, one attribute per TOML section.

    `Settings()` alone reads only the process environment; `load_settings` is what the
    commands use (file + environment, with errors that name the file and key).
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_DELIMITER,
        case_sensitive=False,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    database: DatabaseSection = Field(default_factory=DatabaseSection)
    api: ApiSection = Field(default_factory=ApiSection)
    webhook: WebhookSection = Field(default_factory=WebhookSection)
    limits: LimitsSection = Field(default_factory=LimitsSection)
    node: NodeSection = Field(default_factory=NodeSection)
    optout: OptOutSection = Field(default_factory=OptOutSection)
    log: LogSection = Field(default_factory=LogSection)
    ui: UiSection = Field(default_factory=UiSection)
    mqtt: MqttSection = Field(default_factory=MqttSection)
    retention: RetentionSection = Field(default_factory=RetentionSection)
    modem: list[ModemSection] = Field(default_factory=list)

    SECRET_KEYS: ClassVar[frozenset[str]] = frozenset(
        {"api.key", "webhook.secret", "modem.pin", "mqtt.password"}
    )

    @model_validator(mode="before")
    @classmethod
    def _default_database(cls, data: Any) -> Any:
        """Direct `Settings(...)` gets the same default database as `load_settings`."""
        if isinstance(data, dict):
            database = data.get("database")
            if isinstance(database, DatabaseSection):
                database = database.model_dump()
            if database is None or (isinstance(database, dict) and not database.get("url")):
                url = default_database_url(state_dir())
                data = {**data, "database": {**(database or {}), "url": url}}
        return data

    @model_validator(mode="after")
    def _unique_modems(self) -> Settings:
        seen: dict[str, int] = {}
        for index, modem in enumerate(self.modem):
            if modem.name in seen:
                raise KeyedValueError(
                    ("modem", index, "name"),
                    f"duplicate modem name {modem.name!r} (also modem[{seen[modem.name]}])",
                )
            seen[modem.name] = index
        ports: dict[str, int] = {}
        for index, modem in enumerate(self.modem):
            if modem.port in ports:
                raise KeyedValueError(
                    ("modem", index, "port"),
                    f"port {modem.port!r} is already used by modem[{ports[modem.port]}]",
                )
            ports[modem.port] = index
        return self

    def modem_named(self, name: str) -> ModemSection:
        """The `[[modem]]` with this name; KeyError when there is none."""
        for modem in self.modem:
            if modem.name == name:
                return modem
        raise KeyError(name)


def section_model(section: str) -> type[BaseModel] | None:
    """The model of one top-level key (`"api"` → ApiSection, `"modem"` → ModemSection), or
    None when there is no such section."""
    field = Settings.model_fields.get(section)
    if field is None:
        return None
    if section == "modem":
        return ModemSection
    annotation = field.annotation
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )
