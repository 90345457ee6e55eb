"""How big the daemon benchmarks run: the issue's counts, or small ones with SMSGW_BENCH_QUICK=1.

Quick mode exists to check the benchmark code itself in a minute; published figures
(bench/README.md, results.json) always come from the full counts.
"""

from __future__ import annotations

import os

QUICK = os.environ.get("SMSGW_BENCH_QUICK", "") not in ("", "0")


def count(full: int, quick: int) -> int:
    return quick if QUICK else full


def seconds(full: float, quick: float) -> float:
    return quick if QUICK else full
