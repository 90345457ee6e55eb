"""The result record every benchmark returns, and small timing helpers."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Result:
    """One measured figure: `value` in `unit`, with the target it is judged against."""

    name: str
    value: float
    unit: str
    target: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rate_per_second(fn: Callable[[], object], *, items: int, repeats: int = 7) -> float:
    """Median items/s of `fn` (which processes `items` items) over `repeats` runs."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        rates.append(items / (time.perf_counter() - start))
    return statistics.median(rates)
