"""Settings for one `smsgw run` node of a scale-out test (several nodes on one PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from smsgw.config import Settings


def node_settings(
    database_url: str,
    node: str,
    modems: Mapping[str, Path],
    *,
    webhook_url: str = "",
    heartbeat: float = 0.5,
    lease: float = 3.0,
) -> Settings:
    """One node's settings: its own name and modems, the shared database, short leases."""
    return Settings.model_validate(
        {
            "database": {"url": database_url},
            "webhook": {"url": webhook_url, "timeout": 2.0},
            "node": {"name": node, "heartbeat_interval": heartbeat, "lease": lease},
            "modem": [{"name": name, "port": str(link)} for name, link in modems.items()],
        }
    )
