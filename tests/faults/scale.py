"""Bounded sizes for `make test`, long ones for `make faults` (`-m faults`)."""

from __future__ import annotations

import json


def counts_line(case: str, **counts: object) -> str:
    """The one line every fault run prints: injected, delivered, lost, duplicated (...)."""
    line = f"FAULTS {case}: {json.dumps(counts, sort_keys=True)}"
    print(line)
    return line
