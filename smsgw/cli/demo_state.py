"""Where a running `smsgw demo` keeps its database, so other commands can find it.

The demo lives in a temporary directory named with `DEMO_DIR_PREFIX` (removed when it
stops). `smsgw messages` without a database of its own looks there, so a newcomer who tries
it beside the demo sees the demo's history instead of an error about a missing table.
Kept free of heavy imports: `smsgw messages` starts fast.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["DEMO_DATABASE", "DEMO_DIR_PREFIX", "running_demo_database"]

DEMO_DIR_PREFIX = "smsgw-demo-"
DEMO_DATABASE = "smsgw.db"


def running_demo_database() -> Path | None:
    """The newest database of a demo this user is running, or None."""
    found: list[tuple[float, Path]] = []
    for candidate in Path(tempfile.gettempdir()).glob(f"{DEMO_DIR_PREFIX}*/{DEMO_DATABASE}"):
        try:
            info = candidate.stat()
        except OSError:
            continue  # the demo stopped meanwhile
        if info.st_uid == os.getuid():  # another user's demo is not ours to read
            found.append((info.st_mtime, candidate))
    return max(found)[1] if found else None
