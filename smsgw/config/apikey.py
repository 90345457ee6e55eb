"""The API key the daemon enforces: the configured `api.key`, or one generated once and kept
in the state directory, so the API is never open by accident."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from smsgw.config.sections import MIN_API_KEY_LENGTH, api_key_too_short
from smsgw.config.settings import Settings
from smsgw.config.state import API_KEY_FILENAME, prepare_state_dir
from smsgw.exceptions import ConfigError

__all__ = ["ensure_api_key"]


def ensure_api_key(settings: Settings, directory: Path) -> tuple[str, Path | None]:
    """The API key to enforce, and the file it lives in when it was generated.

    A configured `api.key` wins (path None). Otherwise the key is read from
    `<state dir>/api-key`, or generated there at first start (`secrets.token_urlsafe(32)`,
    file mode 0600, directory 0700) so the API is never open by accident. A stored key
    is held to the same minimum length as a configured one.
    """
    configured = settings.api.key.get_secret_value()
    if configured:
        return configured, None
    key_file = directory / API_KEY_FILENAME
    prepare_state_dir(directory)
    try:
        try:
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read_key_file(key_file), key_file
        key = secrets.token_urlsafe(32)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
        return key, key_file
    except OSError as exc:
        raise ConfigError(
            f"cannot create the API key file: {exc.strerror or exc}",
            file=str(key_file),
            key="api.key",
        ) from None


def _read_key_file(key_file: Path) -> str:
    mode = key_file.stat().st_mode
    if mode & 0o077:
        os.chmod(key_file, 0o600)
    key = key_file.read_text(encoding="ascii", errors="replace").strip()
    if not key or any(ch.isspace() for ch in key):
        raise ConfigError(
            "the stored API key is empty or malformed; delete the file to generate a new one",
            file=str(key_file),
            key="api.key",
        )
    if len(key) < MIN_API_KEY_LENGTH:
        reason = api_key_too_short(len(key)).replace("leave api.key empty", "delete the file")
        raise ConfigError(f"the stored API key {reason}", file=str(key_file), key="api.key")
    return key
