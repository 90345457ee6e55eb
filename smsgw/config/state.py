"""The state directory: where the generated API key and the default SQLite file live.

Why a rule rather than a key: the directory must be known before the configuration is read
(the default database URL points into it), and systemd already names it for the service
(`StateDirectory=smsgw` sets `$STATE_DIRECTORY=/var/lib/smsgw`). A command run by hand as the
service user (`sudo -u smsgw smsgw config check`) has no `$STATE_DIRECTORY`, yet must see the
service's database and key, not a fresh `~/.local/state/smsgw` under the service's home: so
`/var/lib/smsgw` is chosen for whoever owns it, as well as for root.
"""

from __future__ import annotations

import logging
import os
import pwd
import stat
from collections.abc import Mapping
from pathlib import Path

from smsgw.exceptions import ConfigError

__all__ = [
    "API_KEY_FILENAME",
    "DATABASE_FILENAME",
    "DEFAULT_CONFIG_PATH",
    "SYSTEM_STATE_DIR",
    "default_config_path",
    "default_database_url",
    "prepare_state_dir",
    "state_dir",
]

log = logging.getLogger(__name__)

DEFAULT_CONFIG_PATH = Path("/etc/smsgw/smsgw.toml")
SYSTEM_STATE_DIR = Path("/var/lib/smsgw")
API_KEY_FILENAME = "api-key"
DATABASE_FILENAME = "smsgw.db"
PRIVATE_DIR_MODE = 0o700


def state_dir(env: Mapping[str, str] | None = None, *, system_dir: Path | None = None) -> Path:
    """Where the generated API key and the default SQLite file live.

    `$STATE_DIRECTORY` when systemd sets it (first entry if it lists several), else
    `SMSGW_STATE_DIR`, else `/var/lib/smsgw` for root and for the service user (who owns
    that directory, or has it as home), else `~/.local/state/smsgw`.
    """
    environ = os.environ if env is None else env
    systemd_dirs = environ.get("STATE_DIRECTORY", "")
    if systemd_dirs.strip():
        return Path(systemd_dirs.split(":")[0])
    explicit = environ.get("SMSGW_STATE_DIR", "")
    if explicit.strip():
        return Path(explicit).expanduser()
    system = SYSTEM_STATE_DIR if system_dir is None else system_dir
    if os.geteuid() == 0 or _is_service_user(system):
        return system
    home = environ.get("HOME") or str(Path.home())
    return Path(home) / ".local" / "state" / "smsgw"


def _is_service_user(directory: Path) -> bool:
    """True for the user that owns `directory`, or whose home it is (the service user before
    systemd first created it: `useradd --home-dir /var/lib/smsgw`)."""
    try:
        if pwd.getpwuid(os.geteuid()).pw_dir.rstrip("/") == str(directory).rstrip("/"):
            return True
    except KeyError:  # a uid without a passwd entry (containers)
        pass
    try:
        info = directory.stat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()


def prepare_state_dir(directory: Path) -> None:
    """Create the state directory (mode 0700), or tighten an existing one to 0700.

    It holds the API key and usually the database (every message's text and number), so
    no other local user may list or read it, even when it was created before by hand or by
    an older version with the default umask. A directory owned by someone else that we may
    not chmod is left as it is. Raises `ConfigError` when it cannot be created.
    """
    try:
        directory.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        mode = stat.S_IMODE(directory.stat().st_mode)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the state directory: {exc.strerror or exc}", file=str(directory)
        ) from None
    if mode & ~PRIVATE_DIR_MODE:
        try:
            directory.chmod(PRIVATE_DIR_MODE)
        except PermissionError:
            return
        log.warning(
            "state directory %s was open to other users (mode %04o); now %04o",
            directory,
            mode,
            PRIVATE_DIR_MODE,
        )


def default_database_url(directory: Path) -> str:
    """The SQLite file used when `[database] url` is not set."""
    return f"sqlite:///{directory / DATABASE_FILENAME}"


def default_config_path() -> Path | None:
    """`/etc/smsgw/smsgw.toml` when it exists, else None (defaults + environment only)."""
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None
