"""The state directory: where the generated API key and the default SQLite file live.

Why a rule rather than a key: the directory must be known before the configuration is read
(the default database URL points into it), and systemd already names it for the service.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "API_KEY_FILENAME",
    "DATABASE_FILENAME",
    "DEFAULT_CONFIG_PATH",
    "default_config_path",
    "default_database_url",
    "state_dir",
]

DEFAULT_CONFIG_PATH = Path("/etc/smsgw/smsgw.toml")
API_KEY_FILENAME = "api-key"
DATABASE_FILENAME = "smsgw.db"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the generated API key and the default SQLite file live.

    `$STATE_DIRECTORY` when systemd sets it (first entry if it lists several), else
    `SMSGW_STATE_DIR`, else `/var/lib/smsgw` for root and `~/.local/state/smsgw` otherwise.
    """
    environ = os.environ if env is None else env
    systemd_dirs = environ.get("STATE_DIRECTORY", "")
    if systemd_dirs.strip():
        return Path(systemd_dirs.split(":")[0])
    explicit = environ.get("SMSGW_STATE_DIR", "")
    if explicit.strip():
        return Path(explicit).expanduser()
    if os.geteuid() == 0:
        return Path("/var/lib/smsgw")
    home = environ.get("HOME") or str(Path.home())
    return Path(home) / ".local" / "state" / "smsgw"


def default_database_url(directory: Path) -> str:
    """The SQLite file used when `[database] url` is not set."""
    return f"sqlite:///{directory / DATABASE_FILENAME}"


def default_config_path() -> Path | None:
    """`/etc/smsgw/smsgw.toml` when it exists, else None (defaults + environment only)."""
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None
