"""What the dependency stack costs in resident memory before any gateway code runs.

`smsgw run` must stay under 70 MB after start on a small board. This module shows where the
floor is: a fresh interpreter imports the stack one layer at a time (each layer adds to the
ones before it), and VmRSS is read after each, in its own process so nothing is shared or
left over from another measurement. The last layer is smsgw's own daemon code path.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench.common import Result

#: Cumulative import layers, in the order the daemon's own imports pull them in, for a SQLite
#: database: SQLAlchemy's asyncio extension and ORM (about 8 MB more) load only for PostgreSQL.
LAYERS: list[tuple[str, list[str]]] = [
    ("interpreter", []),
    ("asyncio, ssl, sqlite3", ["asyncio", "ssl", "sqlite3"]),
    ("sqlalchemy", ["sqlalchemy"]),
    ("pydantic, pydantic-settings", ["pydantic", "pydantic_settings"]),
    ("httpx", ["httpx"]),
    (
        "prometheus-client, phonenumbers, pyserial-asyncio, typer, uvicorn",
        ["prometheus_client", "phonenumbers", "serial_asyncio", "typer", "uvicorn"],
    ),
    ("smsgw run's code path", ["smsgw.cli.main", "smsgw.cli.run", "smsgw.gateway.daemon"]),
    (
        "the web stack (FastAPI, the API, the inbox): on the first request that needs it",
        ["fastapi", "smsgw.webapp"],
    ),
]

#: As `smsgw.cli.main` does before anything imports httpx: httpx's own command-line client
#: (rich, pygments) is never loaded by smsgw.
_PROBE = """
import importlib, json, sys
sys.modules["httpx._main"] = None
for name in sys.argv[1:]:
    importlib.import_module(name)
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:"))
print(json.dumps(rss / 1024))
"""


def _rss_after(modules: list[str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules], check=True, capture_output=True, text=True
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1]))


def run() -> list[Result]:
    results: list[Result] = []
    imported: list[str] = []
    for label, modules in LAYERS:
        imported += modules
        samples = sorted(_rss_after(imported) for _ in range(3))
        results.append(Result(f"RSS after importing: {label}", samples[1], "MB", "", {}))
    return results
