"""Shared fixtures: where the read-only corpus lives (skip cleanly when it is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared_paths import CORPUS, SEED
from tests.tiers import classify


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """`../shared/corpus` beside the checkout; tests that need it skip when it is missing."""
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS} (it lives beside the checkout, never in it)")
    return CORPUS


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    """`../shared/seed` beside the checkout (the SMS Gateway Master product page)."""
    if not SEED.is_dir():
        pytest.skip(f"seed material not found at {SEED}")
    return SEED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put each test in its tier (tests/tiers.py) so `-m "not slow"` is the fast loop."""
    classify(items)
