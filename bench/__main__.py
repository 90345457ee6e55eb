"""Run the benchmarks, write bench/results.json and print a readable table."""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.common import Result

# Benchmark modules in the order they run; each has `run() -> list[Result]`.
MODULES: list[str] = [
    "pdu_decode",
    "webhook",
    "at_cost",
    "store",
    "emulator",
    "api",
    "ui_inbox",
    "gateway",
    "scaleout",
    "install",
    "import_rss",
    "daemon",
    "inbound",
    "mqtt",
    "scheduler",
]

RESULTS = Path(__file__).with_name("results.json")


def main(argv: list[str]) -> int:
    names = argv or MODULES
    results: list[Result] = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        results.extend(module.run())
    RESULTS.write_text(
        json.dumps(
            {
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "python": platform.python_version(),
                "machine": platform.machine(),
                "results": [r.as_dict() for r in results],
            },
            indent=2,
        )
        + "\n"
    )
    table = Table(title=f"smsgw benchmarks ({RESULTS})")
    for column in ("benchmark", "value", "unit", "target"):
        table.add_column(column)
    for r in results:
        table.add_row(r.name, f"{r.value:,.2f}", r.unit, r.target)
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
